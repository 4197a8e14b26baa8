//! The document outline (bookmarks): titles, their nesting, and where each points to.
//!
//! lopdf's own outline reader follows `/Next` links without guarding against cycles, so the tree
//! is walked here with a visited set and limits. A destination is resolved to a physical page
//! number and, when the destination says so (`/XYZ`, `/FitH`, `/FitBH`, `/FitR`), the top of the
//! view on that page, which lets a section start at its heading rather than at the top of the page.

use std::collections::{HashMap, HashSet};

use lopdf::{Dictionary, Document, Object, ObjectId};

/// Most outline entries read; larger outlines are cut.
const MAX_ENTRIES: usize = 20_000;
/// Deepest nesting read.
const MAX_DEPTH: usize = 32;
/// Most indirections followed when resolving one destination.
const MAX_HOPS: usize = 16;

/// An outline entry that points into the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Titles from the top level down to this entry's own.
    pub path: Vec<String>,
    /// 1-based physical page the entry points to.
    pub page: u32,
    /// Top of the destination view on the page (y in user space), when given.
    pub top: Option<f64>,
}

/// Reads the outline. Entries whose destination cannot be resolved are left out (their children
/// are kept). Returns an empty list when the document has no outline.
pub fn read(doc: &Document, page_of: &HashMap<ObjectId, u32>) -> Vec<Entry> {
    #[cfg(test)]
    crate::guard::bug_site("pdf-outline");
    let Ok(catalog) = doc.catalog() else {
        return Vec::new();
    };
    let Some(root) = catalog.get(b"Outlines").ok().and_then(|o| deref_dict(doc, o)) else {
        return Vec::new();
    };
    let mut resolver = Resolver { doc, page_of, names: None };
    let mut out = Vec::new();
    let mut visited: HashSet<ObjectId> = HashSet::new();
    // Depth-first, in document order: a stack of (next sibling to visit, depth, path so far).
    let mut stack: Vec<(Option<&Object>, usize)> = vec![(root.get(b"First").ok(), 0)];
    let mut path: Vec<Option<String>> = Vec::new();
    while let Some((next, depth)) = stack.pop() {
        let Some(node_ref) = next else { continue };
        if let Ok(id) = node_ref.as_reference()
            && !visited.insert(id)
        {
            continue;
        }
        let Some(node) = deref_dict(doc, node_ref) else { continue };
        if out.len() >= MAX_ENTRIES {
            break;
        }
        path.truncate(depth);
        let title = node.get(b"Title").ok().and_then(|t| text_string(doc, t)).filter(|t| !t.is_empty());
        path.push(title);
        // An entry without a title of its own is not a heading, but its children still are.
        if path.last().is_some_and(Option::is_some)
            && let Some((page, top)) = resolver.entry_target(node)
        {
            out.push(Entry { path: path.iter().flatten().cloned().collect(), page, top });
        }
        // Visit the children before the next sibling.
        stack.push((node.get(b"Next").ok(), depth));
        if depth + 1 < MAX_DEPTH {
            stack.push((node.get(b"First").ok(), depth + 1));
        }
    }
    out
}

/// A PDF text string (title), decoded and with white space collapsed.
pub fn text_string(doc: &Document, obj: &Object) -> Option<String> {
    let (_, obj) = doc.dereference(obj).ok()?;
    let raw = lopdf::decode_text_string(obj).ok()?;
    let collapsed = raw.trim_start_matches('\u{FEFF}').split_whitespace().collect::<Vec<_>>().join(" ");
    Some(collapsed.chars().filter(|c| !c.is_control()).collect())
}

fn deref_dict<'a>(doc: &'a Document, obj: &'a Object) -> Option<&'a Dictionary> {
    doc.dereference(obj).ok()?.1.as_dict().ok()
}

fn number(obj: &Object) -> Option<f64> {
    obj.as_float().ok().map(f64::from).filter(|v| v.is_finite())
}

struct Resolver<'a> {
    doc: &'a Document,
    page_of: &'a HashMap<ObjectId, u32>,
    /// The `/Names /Dests` name tree, flattened on first use.
    names: Option<HashMap<Vec<u8>, &'a Object>>,
}

impl<'a> Resolver<'a> {
    /// The page and top an outline item points to, through `/Dest` or a `/GoTo` action.
    fn entry_target(&mut self, node: &'a Dictionary) -> Option<(u32, Option<f64>)> {
        if let Ok(dest) = node.get(b"Dest") {
            return self.destination(dest, 0);
        }
        let action = deref_dict(self.doc, node.get(b"A").ok()?)?;
        if action.get(b"S").ok()?.as_name().ok()? != b"GoTo" {
            return None;
        }
        self.destination(action.get(b"D").ok()?, 0)
    }

    fn destination(&mut self, dest: &'a Object, hops: usize) -> Option<(u32, Option<f64>)> {
        if hops > MAX_HOPS {
            return None;
        }
        let (_, dest) = self.doc.dereference(dest).ok()?;
        match dest {
            Object::Array(items) => self.explicit(items),
            Object::Dictionary(d) => self.destination(d.get(b"D").ok()?, hops + 1),
            Object::Name(name) => {
                let dests = deref_dict(self.doc, self.doc.catalog().ok()?.get(b"Dests").ok()?)?;
                self.destination(dests.get(name).ok()?, hops + 1)
            }
            Object::String(key, _) => {
                let target = *self.name_tree().get(key)?;
                self.destination(target, hops + 1)
            }
            _ => None,
        }
    }

    /// `[page /XYZ left top zoom]`, `[page /FitH top]`, `[page /FitR l b r t]`, `[page /Fit]`...
    fn explicit(&self, items: &[Object]) -> Option<(u32, Option<f64>)> {
        let page = match items.first()? {
            Object::Reference(id) => *self.page_of.get(id)?,
            // Destinations into other documents use a page index; within one it is unusual but seen.
            Object::Integer(i) => {
                let n = u32::try_from(*i).ok()?.checked_add(1)?;
                (n as usize <= self.page_of.len()).then_some(n)?
            }
            _ => return None,
        };
        let kind = items.get(1).and_then(|k| k.as_name().ok()).unwrap_or(b"Fit");
        let top = match kind {
            b"XYZ" => items.get(3).and_then(number),
            b"FitH" | b"FitBH" => items.get(2).and_then(number),
            b"FitR" => items.get(5).and_then(number),
            _ => None,
        };
        Some((page, top))
    }

    fn name_tree(&mut self) -> &HashMap<Vec<u8>, &'a Object> {
        if self.names.is_none() {
            let mut map = HashMap::new();
            let doc = self.doc;
            let root = doc
                .catalog()
                .ok()
                .and_then(|c| c.get(b"Names").ok())
                .and_then(|n| deref_dict(doc, n))
                .and_then(|n| n.get(b"Dests").ok())
                .and_then(|d| deref_dict(doc, d));
            if let Some(root) = root {
                collect_names(doc, root, &mut map);
            }
            self.names = Some(map);
        }
        self.names.get_or_insert_with(HashMap::new)
    }
}

/// Flattens a name tree into `map`, guarding against cycles.
fn collect_names<'a>(doc: &'a Document, root: &'a Dictionary, map: &mut HashMap<Vec<u8>, &'a Object>) {
    let mut visited: HashSet<ObjectId> = HashSet::new();
    let mut stack: Vec<&'a Dictionary> = vec![root];
    let mut steps = 0usize;
    while let Some(node) = stack.pop() {
        steps += 1;
        if steps > 100_000 {
            break;
        }
        if let Ok(names) = node.get(b"Names").and_then(|n| doc.dereference(n)).and_then(|(_, n)| n.as_array())
        {
            for pair in names.chunks(2) {
                if let [key, value] = pair
                    && let Ok((_, key)) = doc.dereference(key)
                    && let Ok(key) = key.as_str()
                {
                    map.entry(key.to_vec()).or_insert(value);
                }
            }
        }
        if let Ok(kids) = node.get(b"Kids").and_then(|k| doc.dereference(k)).and_then(|(_, k)| k.as_array()) {
            for kid in kids.iter().rev() {
                if let Ok(id) = kid.as_reference()
                    && !visited.insert(id)
                {
                    continue;
                }
                if let Some(d) = deref_dict(doc, kid) {
                    stack.push(d);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use lopdf::dictionary;

    use super::*;

    /// A document with two pages and an outline: "One" (-> page 1, top 700) with child "One.a"
    /// (-> named destination on page 2) and "Two" (-> page 2 via a GoTo action). "Two" links back
    /// to "One" as its /Next, a cycle the reader must survive.
    fn sample() -> (Document, HashMap<ObjectId, u32>) {
        let mut doc = Document::with_version("1.5");
        let p1: ObjectId = (10, 0);
        let p2: ObjectId = (11, 0);
        let one: ObjectId = (20, 0);
        let one_a: ObjectId = (21, 0);
        let two: ObjectId = (22, 0);
        let outlines: ObjectId = (23, 0);
        doc.objects.insert(p1, Object::Dictionary(dictionary! { "Type" => "Page" }));
        doc.objects.insert(p2, Object::Dictionary(dictionary! { "Type" => "Page" }));
        doc.objects.insert(
            one,
            Object::Dictionary(dictionary! {
                "Title" => Object::string_literal("One"),
                "Dest" => vec![Object::Reference(p1), "XYZ".into(), 72.into(), 700.into(), Object::Null],
                "First" => Object::Reference(one_a),
                "Next" => Object::Reference(two),
            }),
        );
        doc.objects.insert(
            one_a,
            Object::Dictionary(dictionary! {
                "Title" => Object::String(b"\xFE\xFF\x00O\x00n\x00e\x00.\x00a".to_vec(), lopdf::StringFormat::Hexadecimal),
                "Dest" => Object::string_literal("sec.1a"),
            }),
        );
        doc.objects.insert(
            two,
            Object::Dictionary(dictionary! {
                "Title" => Object::string_literal("Two"),
                "A" => dictionary! { "S" => "GoTo", "D" => vec![Object::Reference(p2), "Fit".into()] },
                "Next" => Object::Reference(one),
            }),
        );
        doc.objects.insert(outlines, Object::Dictionary(dictionary! { "First" => Object::Reference(one) }));
        let names = dictionary! {
            "Dests" => dictionary! {
                "Names" => vec![
                    Object::string_literal("sec.1a"),
                    Object::Array(vec![Object::Reference(p2), "FitH".into(), 500.into()]),
                ],
            },
        };
        let catalog: ObjectId = (1, 0);
        doc.objects.insert(
            catalog,
            Object::Dictionary(dictionary! { "Type" => "Catalog", "Outlines" => Object::Reference(outlines), "Names" => names }),
        );
        doc.trailer.set("Root", Object::Reference(catalog));
        let pages = HashMap::from([(p1, 1), (p2, 2)]);
        (doc, pages)
    }

    #[test]
    fn outline_paths_pages_and_tops() {
        let (doc, pages) = sample();
        let entries = read(&doc, &pages);
        assert_eq!(
            entries,
            vec![
                Entry { path: vec!["One".into()], page: 1, top: Some(700.0) },
                Entry { path: vec!["One".into(), "One.a".into()], page: 2, top: Some(500.0) },
                Entry { path: vec!["Two".into()], page: 2, top: None },
            ]
        );
    }

    #[test]
    fn no_outline_no_entries() {
        let doc = Document::with_version("1.5");
        assert!(read(&doc, &HashMap::new()).is_empty());
    }
}
