//! Article text from an HTML page: the body, not scripts, styles or navigation.

/// Extract the article's text, one block element per paragraph (blank line between).
#[must_use]
pub fn extract_text(html: &str) -> String {
    let _ = html;
    todo!("html")
}
