//! Just enough XML for the stanzas an XMPP server sends over WebSocket: RFC 7395 puts one
//! complete top-level element in each message, so a frame is parsed whole into a small tree
//! (names with their prefixes, attributes, child elements, text). No DTDs, no namespaces
//! resolved: the client only looks at names, a few attributes and `<body/>` text.

use anyhow::{Context, bail};

/// An element: its name as written (`stream:features`), attributes, children and text.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// The element's own text, its text nodes and CDATA joined.
    pub text: String,
}

impl Element {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// Elements nested deeper than this are refused (stanzas are shallow).
const MAX_DEPTH: usize = 32;

/// Parses one frame: `None` for whitespace alone (a keepalive), the element otherwise.
pub fn parse(frame: &str) -> anyhow::Result<Option<Element>> {
    let mut cursor = Cursor { rest: frame };
    cursor.skip_whitespace();
    if cursor.rest.is_empty() {
        return Ok(None);
    }
    let element = cursor
        .element(0)
        .with_context(|| format!("unreadable XML {:?}", truncated(frame)))?;
    cursor.skip_whitespace();
    if !cursor.rest.is_empty() {
        bail!(
            "more than one top-level element in a frame: {:?}",
            truncated(frame)
        );
    }
    Ok(Some(element))
}

fn truncated(text: &str) -> &str {
    let mut end = text.len().min(200);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn skip_whitespace(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t', '\r', '\n']);
    }

    fn eat(&mut self, prefix: &str) -> bool {
        match self.rest.strip_prefix(prefix) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// Everything up to `end`, which is consumed too.
    fn until(&mut self, end: &str) -> anyhow::Result<&'a str> {
        let at = self.rest.find(end).with_context(|| format!("no {end:?}"))?;
        let taken = &self.rest[..at];
        self.rest = &self.rest[at + end.len()..];
        Ok(taken)
    }

    fn name(&mut self) -> anyhow::Result<&'a str> {
        let end = self
            .rest
            .find(|c: char| c.is_ascii_whitespace() || matches!(c, '/' | '>' | '='))
            .unwrap_or(self.rest.len());
        if end == 0 {
            bail!("a name was expected");
        }
        let name = &self.rest[..end];
        self.rest = &self.rest[end..];
        Ok(name)
    }

    fn element(&mut self, depth: usize) -> anyhow::Result<Element> {
        if depth > MAX_DEPTH {
            bail!("elements nested over {MAX_DEPTH} deep");
        }
        if !self.eat("<") {
            bail!("an element was expected");
        }
        let mut element = Element {
            name: self.name()?.to_owned(),
            ..Element::default()
        };
        loop {
            self.skip_whitespace();
            if self.eat("/>") {
                return Ok(element);
            }
            if self.eat(">") {
                break;
            }
            let key = self.name()?.to_owned();
            self.skip_whitespace();
            if !self.eat("=") {
                bail!("attribute {key} has no value");
            }
            self.skip_whitespace();
            let quote = if self.eat("'") {
                "'"
            } else if self.eat("\"") {
                "\""
            } else {
                bail!("attribute {key} is not quoted");
            };
            let value = unescape(self.until(quote)?)?;
            element.attributes.push((key, value));
        }
        loop {
            if self.eat("</") {
                let name = self.name()?;
                if name != element.name {
                    bail!("<{}> closed by </{name}>", element.name);
                }
                self.skip_whitespace();
                if !self.eat(">") {
                    bail!("unfinished </{name}");
                }
                return Ok(element);
            } else if self.eat("<!--") {
                self.until("-->")?;
            } else if self.eat("<![CDATA[") {
                element.text.push_str(self.until("]]>")?);
            } else if self.eat("<?") {
                self.until("?>")?;
            } else if self.rest.starts_with('<') {
                element.children.push(self.element(depth + 1)?);
            } else if self.rest.is_empty() {
                bail!("<{}> is not closed", element.name);
            } else {
                let end = self.rest.find('<').unwrap_or(self.rest.len());
                element.text.push_str(&unescape(&self.rest[..end])?);
                self.rest = &self.rest[end..];
            }
        }
    }
}

/// Replaces the five predefined entities and character references.
fn unescape(text: &str) -> anyhow::Result<String> {
    if !text.contains('&') {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..]
            .find(';')
            .with_context(|| format!("unfinished entity in {text:?}"))?;
        let entity = &rest[at + 1..at + end];
        let c = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(decimal) = entity.strip_prefix('#') {
                    decimal.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .with_context(|| format!("unknown entity &{entity};"))?
            }
        };
        out.push(c);
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Escapes text for an attribute value or element content.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_prosody_sends() {
        let frame = "<message xmlns='jabber:client' type='groupchat' id='cb.1.2.3' \
            from='g@conference.localhost/m1' to='a@localhost/r'><body>cb 1 2 3 x&amp;y</body>\
            <stanza-id xmlns='urn:xmpp:sid:0' by=\"g@conference.localhost\" id='X'/></message>";
        let message = parse(frame).unwrap().unwrap();
        assert_eq!(message.name, "message");
        assert_eq!(message.attribute("type"), Some("groupchat"));
        assert_eq!(message.attribute("from"), Some("g@conference.localhost/m1"));
        assert_eq!(message.child("body").unwrap().text, "cb 1 2 3 x&y");
        assert_eq!(
            message.child("stanza-id").unwrap().attribute("by"),
            Some("g@conference.localhost")
        );
        let features = parse(
            "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>\
             <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
             <mechanism>ANONYMOUS</mechanism></mechanisms></stream:features>",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            features.child("mechanisms").unwrap().children[0].text,
            "ANONYMOUS"
        );
    }

    #[test]
    fn refuses_broken_frames() {
        assert_eq!(parse("  ").unwrap(), None);
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("<a>").is_err());
        assert!(parse("<a x=1/>").is_err());
        assert!(parse("<a/><b/>").is_err());
        assert!(parse("<a>&bogus;</a>").is_err());
        assert_eq!(parse("<a>&#x41;&#66;</a>").unwrap().unwrap().text, "AB");
        assert_eq!(escape("a<'&\">"), "a&lt;&apos;&amp;&quot;&gt;");
    }
}
