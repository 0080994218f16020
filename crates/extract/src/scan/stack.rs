//! A simulation of the tree builder's stack of open elements and list of
//! active formatting elements, with the work its walks cost.

use super::names::{FORMATTING, NameInfo};
use super::shape::Shape;

/// Weight of one "Noah's Ark" comparison (the tree builder clones and sorts
/// both elements' attributes) against one step of a stack walk.
pub(super) const NOAH_WEIGHT: u64 = 16;
/// Weight of re-opening one formatting element (a new element with cloned
/// attributes, inserted into the tree) against one step of a stack walk.
pub(super) const REOPEN_WEIGHT: u64 = 64;

/// A simulation of the tree builder's stack of open elements, cheap enough
/// to be linear: every push and pop is O(1), and an end tag pops only when
/// the parser would really close an element with it.
#[derive(Default)]
pub(super) struct Sim {
    /// Interned lower-case element names.
    ids: std::collections::HashMap<Vec<u8>, usize>,
    /// What is known about each interned name, by id.
    pub(super) names: Vec<NameInfo>,
    /// Name ids of the open elements, outermost first.
    stack: Vec<usize>,
    /// Positions of open special elements (ascending).
    specials: Vec<usize>,
    /// Positions of open scope-bounding elements (ascending).
    scopes: Vec<usize>,
    /// Positions of open formatting elements (ascending).
    formatting_open: Vec<usize>,
    /// Active formatting elements per [`FORMATTING`] name.
    pub(super) formatting: [usize; FORMATTING.len()],
    /// Active formatting elements in all.
    pub(super) formatting_total: usize,
    /// Interned ids of the [`FORMATTING`] names seen so far.
    formatting_ids: [Option<usize>; FORMATTING.len()],
    /// Stack length at which foreign content (`<svg>`, `<math>`) started.
    pub(super) foreign_floor: Option<usize>,
    /// What the simulation measured so far.
    pub(super) shape: Shape,
}

impl Sim {
    /// The id of a lower-case element name, interned on first sight.
    pub(super) fn intern(&mut self, lower: &[u8]) -> usize {
        if let Some(&id) = self.ids.get(lower) {
            return id;
        }
        let id = self.names.len();
        let info = NameInfo::new(lower);
        if let Some(f) = info.formatting {
            self.formatting_ids[f] = Some(id);
        }
        self.names.push(info);
        self.ids.insert(lower.to_vec(), id);
        id
    }

    /// Opens an element named `id` on top of the stack.
    pub(super) fn push(&mut self, id: usize) {
        let pos = self.stack.len();
        self.stack.push(id);
        let info = &mut self.names[id];
        info.open.push(pos);
        if info.special {
            self.specials.push(pos);
        }
        if info.scope {
            self.scopes.push(pos);
        }
        if info.formatting.is_some() {
            self.formatting_open.push(pos);
        }
        if info.foreign_root && self.foreign_floor.is_none() {
            self.foreign_floor = Some(pos);
        }
        self.shape.nesting = self.shape.nesting.max(self.stack.len());
    }

    /// Pops elements until the stack has `len` entries.
    fn pop_to(&mut self, len: usize) {
        while self.stack.len() > len {
            let Some(id) = self.stack.pop() else { break };
            let info = &mut self.names[id];
            info.open.pop();
            if info.special {
                self.specials.pop();
            }
            if info.scope {
                self.scopes.pop();
            }
            if info.formatting.is_some() {
                self.formatting_open.pop();
            }
        }
        if self.foreign_floor.is_some_and(|f| self.stack.len() <= f) {
            self.foreign_floor = None;
        }
    }

    /// Closes the innermost open element named `id`, with what it encloses,
    /// when the parser would: not across a special element for ordinary
    /// names, not outside the current scope (table, object, …) for special
    /// ones. In foreign content any open element of the name is closed.
    pub(super) fn close(&mut self, id: usize) {
        let top = self.names[id].open.last().copied();
        let foreign = self
            .foreign_floor
            .is_some_and(|f| top.is_some_and(|t| t >= f));
        let barrier = if foreign {
            None
        } else if self.names[id].special {
            self.scopes.last().copied()
        } else {
            self.specials.last().copied()
        };
        match top {
            Some(top) if barrier.is_none_or(|b| b <= top) => {
                self.walk_to(Some(top));
                self.pop_to(top);
            }
            // The parser walks down to the barrier and gives up.
            _ => self.walk_to(barrier),
        }
    }

    /// Counts a walk from the top of the stack down to position `to`
    /// (exclusive; `None`: the whole stack).
    fn walk_to(&mut self, to: Option<usize>) {
        let from = to.map_or(0, |t| t + 1);
        self.shape.work += self.stack.len().saturating_sub(from) as u64;
    }

    /// Counts a scope check: a walk down to the innermost scope boundary.
    pub(super) fn scope_walk(&mut self) {
        self.walk_to(self.scopes.last().copied());
    }

    /// Before most tokens the parser re-opens the active formatting
    /// elements that an enclosing element's end tag closed (`<div><b></div>x`
    /// re-opens the `<b>`), after a walk down to the innermost open one.
    pub(super) fn reopen_check(&mut self) {
        if self.formatting_total == 0 {
            return;
        }
        if self.formatting_open.len() < self.formatting_total {
            for f in 0..FORMATTING.len() {
                let Some(id) = self.formatting_ids[f] else {
                    continue;
                };
                let missing = self.formatting[f].saturating_sub(self.names[id].open.len());
                for _ in 0..missing {
                    self.push(id);
                }
                self.shape.work += REOPEN_WEIGHT * missing as u64;
            }
        }
        if let Some(&f) = self.formatting_open.last() {
            self.shape.work += (self.stack.len() - f) as u64;
        }
    }

    /// A formatting element of [`FORMATTING`] index `f` becomes active.
    pub(super) fn start_formatting(&mut self, f: usize) {
        // Compared with every active element of the same name.
        self.shape.work += NOAH_WEIGHT * self.formatting[f] as u64;
        self.formatting[f] += 1;
        self.formatting_total += 1;
        self.shape.formatting = self.shape.formatting.max(self.formatting_total);
    }

    /// An active formatting element of [`FORMATTING`] index `f` (if any) ends.
    pub(super) fn end_formatting(&mut self, f: usize) {
        if self.formatting[f] > 0 {
            self.formatting[f] -= 1;
            self.formatting_total -= 1;
        }
    }
}
