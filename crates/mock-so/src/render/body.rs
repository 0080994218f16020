//! A post body's inner HTML (`templates/partials/body.html`).

use askama::Template;

use super::filters;
use crate::model::{Block, Body, Inline};

/// The inner HTML of a body element.
#[derive(Template)]
#[template(path = "partials/body.html", escape = "none")]
pub(super) struct BodyHtml<'a> {
    pub(super) blocks: &'a [Block],
}

impl<'a> BodyHtml<'a> {
    pub(super) fn new(body: &'a Body) -> Self {
        BodyHtml {
            blocks: &body.blocks,
        }
    }
}

/// The inner HTML of a body element, as a string.
pub(crate) fn body_html(body: &Body) -> String {
    BodyHtml::new(body).to_string()
}
