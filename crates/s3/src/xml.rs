//! XML in and out: escaping for the documents S3 answers, and the few request
//! documents S3 reads (CreateBucketConfiguration, Delete, CompleteMultipartUpload).

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::error::{S3Error, S3Result};

/// The namespace of S3's documents.
pub const NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Escapes text for an XML element or attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {
                out.push_str(&format!("&#{};", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// A document being written: `<?xml …?>` and a root element in S3's namespace.
pub struct Document(String);

impl Document {
    /// Opens the root element `root`.
    pub fn new(root: &str) -> Self {
        Self(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{NAMESPACE}\">"
        ))
    }

    /// Adds `<name>text</name>` (escaped).
    pub fn element(&mut self, name: &str, text: &str) -> &mut Self {
        self.0
            .push_str(&format!("<{name}>{}</{name}>", escape(text)));
        self
    }

    /// Opens `<name>`.
    pub fn open(&mut self, name: &str) -> &mut Self {
        self.0.push('<');
        self.0.push_str(name);
        self.0.push('>');
        self
    }

    /// Closes `</name>`.
    pub fn close(&mut self, name: &str) -> &mut Self {
        self.0.push_str("</");
        self.0.push_str(name);
        self.0.push('>');
        self
    }

    /// Closes the root element `root` and returns the text.
    pub fn finish(mut self, root: &str) -> String {
        self.close(root);
        self.0
    }
}

/// A parsed element tree (enough for S3's small request documents).
#[derive(Debug, Default)]
pub struct Element {
    /// Local name (without a namespace prefix).
    pub name: String,
    /// Concatenated text content.
    pub text: String,
    /// Child elements in order.
    pub children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The children named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child named `name`.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// Parses a document into its root element; MalformedXML when it is not one.
pub fn parse(body: &[u8]) -> S3Result<Element> {
    let mut reader = Reader::from_reader(body);
    let mut stack: Vec<Element> = Vec::new();
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|_| S3Error::malformed_xml())?;
        match event {
            Event::Start(start) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                stack.push(Element {
                    name,
                    ..Element::default()
                });
            }
            Event::Empty(start) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                let element = Element {
                    name,
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Event::Text(text) => {
                if let Some(current) = stack.last_mut() {
                    let text = text.decode().map_err(|_| S3Error::malformed_xml())?;
                    let text =
                        quick_xml::escape::unescape(&text).map_err(|_| S3Error::malformed_xml())?;
                    current.text.push_str(&text);
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(current) = stack.last_mut() {
                    let name = reference.decode().map_err(|_| S3Error::malformed_xml())?;
                    let reference = format!("&{name};");
                    let text = quick_xml::escape::unescape(&reference)
                        .map_err(|_| S3Error::malformed_xml())?;
                    current.text.push_str(&text);
                }
            }
            Event::CData(data) => {
                if let Some(current) = stack.last_mut() {
                    current
                        .text
                        .push_str(&String::from_utf8_lossy(&data.into_inner()));
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(S3Error::malformed_xml());
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(done),
                }
            }
            Event::Eof => return Err(S3Error::malformed_xml()),
            _ => {}
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_parse_with_entities_and_namespaces() {
        let doc = parse(
            b"<?xml version=\"1.0\"?><Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
              <Object><Key>a &amp; b &lt;c&gt;</Key></Object><Object><Key>d</Key></Object>\
              <Quiet>true</Quiet></Delete>",
        )
        .expect("parses");
        assert_eq!(doc.name, "Delete");
        let keys: Vec<&str> = doc.all("Object").filter_map(|o| o.text_of("Key")).collect();
        assert_eq!(keys, ["a & b <c>", "d"]);
        assert_eq!(doc.text_of("Quiet"), Some("true"));
        assert!(parse(b"<Delete><Object>").is_err());
        assert!(parse(b"not xml").is_err());
        assert_eq!(escape("a<&>\u{1}"), "a&lt;&amp;&gt;&#1;");
    }
}
