//! Tables and selects on the fast path: the table modes' plain order
//! (`table` › optional `tbody`/`thead`/`tfoot` › `tr` › `td`/`th`, with the
//! implied `tbody` of a `tr` written straight into a table) and a `select` of
//! `option`s. Anything the tree builder would move (foster parenting), close
//! implicitly or ignore is declined.

use super::lex::{Decline, Tag};
use super::{Builder, Mode};

impl Builder<'_> {
    fn current_is(&self, names: &[&str]) -> bool {
        self.stack
            .last()
            .is_some_and(|(_, n, _)| names.contains(&&**n))
    }

    /// A start tag of a [`TABLE_PART`](super::names::TABLE_PART) in any mode
    /// from the body on, or any start tag in a table mode or a select.
    pub(super) fn table_start(&mut self, tag: &mut Tag) -> Result<usize, Decline> {
        let name = tag.name.clone();
        let name = &*name;
        match (self.mode, name) {
            (Mode::InBody | Mode::InCell, "table") => {
                if self.open_p > 0 {
                    return Err("a table inside an open <p>");
                }
                self.insert(tag, false)?;
                self.mode = Mode::InTable;
            }
            (Mode::InBody | Mode::InCell, "select") => {
                self.insert(tag, false)?;
                self.mode = Mode::InSelect;
            }
            (Mode::InTable, "tbody" | "thead" | "tfoot") => {
                self.insert(tag, false)?;
                self.mode = Mode::InTableBody;
            }
            (Mode::InTable, "tr") => {
                self.implicit("tbody")?;
                self.insert(tag, false)?;
                self.mode = Mode::InRow;
            }
            (Mode::InTableBody, "tr") => {
                self.insert(tag, false)?;
                self.mode = Mode::InRow;
            }
            (Mode::InRow, "td" | "th") => {
                self.insert(tag, false)?;
                self.mode = Mode::InCell;
            }
            (Mode::InSelect, "option") => {
                if self.current_is(&["option"]) {
                    self.pop();
                }
                self.insert(tag, false)?;
            }
            _ => return Err("table or select markup the tree builder would move"),
        }
        Ok(tag.next)
    }

    /// An end tag in a table mode or a select, or an end tag of a table part.
    pub(super) fn table_end(&mut self, tag: &Tag) -> Result<usize, Decline> {
        let name = &*tag.name;
        match (self.mode, name) {
            (Mode::InTable, "table") if self.current_is(&["table"]) => {
                self.pop();
                self.reset_mode();
            }
            (Mode::InTableBody, "tbody" | "thead" | "tfoot") if self.current_is(&[name]) => {
                self.pop();
                self.mode = Mode::InTable;
            }
            (Mode::InTableBody, "table") if self.current_is(&["tbody", "thead", "tfoot"]) => {
                self.pop();
                if !self.current_is(&["table"]) {
                    return Err("a table body outside its table");
                }
                self.pop();
                self.reset_mode();
            }
            (Mode::InRow, "tr") if self.current_is(&["tr"]) => {
                self.pop();
                self.mode = Mode::InTableBody;
            }
            (Mode::InCell, "td" | "th") if self.current_is(&[name]) => {
                self.pop();
                self.mode = Mode::InRow;
            }
            (Mode::InSelect, "option") if self.current_is(&["option"]) => self.pop(),
            (Mode::InSelect, "select") => {
                if self.current_is(&["option"]) {
                    self.pop();
                }
                if !self.current_is(&["select"]) {
                    return Err("a select closing other elements");
                }
                self.pop();
                self.reset_mode();
            }
            _ => return Err("table or select markup the tree builder would repair"),
        }
        Ok(tag.next)
    }

    /// The tree builder's "reset the insertion mode appropriately", for the
    /// elements the fast path lets in.
    pub(super) fn reset_mode(&mut self) {
        for (_, name, _) in self.stack.iter().rev() {
            self.mode = match &**name {
                "td" | "th" => Mode::InCell,
                "tr" => Mode::InRow,
                "tbody" | "thead" | "tfoot" => Mode::InTableBody,
                "table" => Mode::InTable,
                "select" => Mode::InSelect,
                "body" => Mode::InBody,
                _ => continue,
            };
            return;
        }
        self.mode = Mode::InBody;
    }
}
