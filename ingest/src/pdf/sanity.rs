//! Checks that a page can be handed to pdf-extract without endless recursion.
//!
//! pdf-extract recurses through a page's `/Parent` chain (inherited resources and media box) and
//! into every form XObject a content stream draws with `Do`. A cycle in either would recurse until
//! the stack overflows, which aborts the process (a stack overflow cannot be caught like a panic),
//! so pages with such cycles are skipped. The walk is bounded, and a page too tangled to check is
//! skipped too.

use std::collections::{HashMap, HashSet};

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Object, ObjectId};

/// Longest `/Parent` chain accepted.
const MAX_PARENT_CHAIN: usize = 64;
/// Most form XObject visits made to check one page.
const MAX_FORM_VISITS: usize = 2_000;
/// Deepest nesting of forms accepted.
const MAX_FORM_DEPTH: usize = 32;

/// Why a page is unsafe to extract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsafe {
    /// The `/Parent` chain loops or is absurdly long.
    ParentChain,
    /// A form XObject draws itself, directly or through others, or forms nest too deeply.
    FormCycle,
}

impl std::fmt::Display for Unsafe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unsafe::ParentChain => f.write_str("its page tree loops"),
            Unsafe::FormCycle => f.write_str("its drawing instructions call themselves"),
        }
    }
}

/// Checks page `page` (an object id from the page tree) of `item`; `forms` caches form analyses
/// across pages. A form whose content a parser panics on draws nothing as far as the check goes
/// (pdf-extract, reading it next, then fails the page).
pub fn check_page(doc: &Document, page: ObjectId, forms: &mut FormCache, item: &str) -> Result<(), Unsafe> {
    let resources = page_resources(doc, page)?;
    let Some(resources) = resources else { return Ok(()) };
    let mut visits = 0usize;
    let mut stack = Vec::new();
    for id in form_ids(doc, resources) {
        walk_form(doc, id, resources, &mut stack, &mut visits, forms, item)?;
    }
    Ok(())
}

/// Whether any of the pages draws an image XObject (directly or inside a form): a page without
/// text but with images is most likely scanned.
pub fn has_images(doc: &Document, pages: impl Iterator<Item = ObjectId>) -> bool {
    for page in pages {
        let Ok(Some(resources)) = page_resources(doc, page) else { continue };
        let mut pending: Vec<&Dictionary> = vec![resources];
        let mut seen: HashSet<ObjectId> = HashSet::new();
        while let Some(res) = pending.pop() {
            for id in form_ids(doc, res) {
                if !seen.insert(id) || seen.len() > MAX_FORM_VISITS {
                    continue;
                }
                let Ok(Object::Stream(stream)) = doc.get_object(id) else { continue };
                match stream.dict.get(b"Subtype").and_then(Object::as_name) {
                    Ok(b"Image") => return true,
                    Ok(b"Form") => {
                        if let Ok((_, Object::Dictionary(d))) =
                            stream.dict.get(b"Resources").and_then(|r| doc.dereference(r))
                        {
                            pending.push(d);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    false
}

/// The `Do` operands of each form already read.
#[derive(Debug, Default)]
pub struct FormCache {
    names: HashMap<ObjectId, Vec<Vec<u8>>>,
}

/// The page's (possibly inherited) resources, checking the `/Parent` chain on the way.
fn page_resources(doc: &Document, page: ObjectId) -> Result<Option<&Dictionary>, Unsafe> {
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut current = page;
    let mut found = None;
    for _ in 0..MAX_PARENT_CHAIN {
        if !seen.insert(current) {
            return Err(Unsafe::ParentChain);
        }
        let Ok(dict) = doc.get_dictionary(current) else { return Ok(found) };
        if found.is_none()
            && let Ok(res) = dict.get(b"Resources")
            && let Ok((_, Object::Dictionary(d))) = doc.dereference(res)
        {
            found = Some(d);
        }
        match dict.get(b"Parent").and_then(Object::as_reference) {
            Ok(parent) => current = parent,
            Err(_) => return Ok(found),
        }
    }
    Err(Unsafe::ParentChain)
}

/// Ids of the XObjects named in a resource dictionary.
fn form_ids(doc: &Document, resources: &Dictionary) -> Vec<ObjectId> {
    let Ok(xobjects) =
        resources.get(b"XObject").and_then(|x| doc.dereference(x)).and_then(|(_, x)| x.as_dict())
    else {
        return Vec::new();
    };
    xobjects.iter().filter_map(|(_, v)| v.as_reference().ok()).collect()
}

fn walk_form<'a>(
    doc: &'a Document,
    id: ObjectId,
    inherited: &'a Dictionary,
    stack: &mut Vec<ObjectId>,
    visits: &mut usize,
    forms: &mut FormCache,
    item: &str,
) -> Result<(), Unsafe> {
    if stack.contains(&id) || stack.len() >= MAX_FORM_DEPTH {
        return Err(Unsafe::FormCycle);
    }
    *visits += 1;
    if *visits > MAX_FORM_VISITS {
        return Err(Unsafe::FormCycle);
    }
    let Ok(Object::Stream(stream)) = doc.get_object(id) else { return Ok(()) };
    if stream.dict.get(b"Subtype").and_then(Object::as_name).ok() != Some(b"Form".as_slice()) {
        return Ok(());
    }
    let own = stream
        .dict
        .get(b"Resources")
        .ok()
        .and_then(|r| doc.dereference(r).ok())
        .and_then(|(_, r)| r.as_dict().ok());
    let resources = own.unwrap_or(inherited);
    let names = forms
        .names
        .entry(id)
        .or_insert_with(|| {
            let content = crate::guard::catch(item, "PDF parser", || stream.decompressed_content())
                .ok()
                .and_then(Result::ok)
                .unwrap_or_else(|| stream.content.clone());
            let Ok(Ok(content)) = crate::guard::catch(item, "PDF parser", || Content::decode(&content))
            else {
                return Vec::new();
            };
            drawn_names(content)
        })
        .clone();
    if names.is_empty() {
        return Ok(());
    }
    let Ok(xobjects) =
        resources.get(b"XObject").and_then(|x| doc.dereference(x)).and_then(|(_, x)| x.as_dict())
    else {
        return Ok(());
    };
    stack.push(id);
    for name in names {
        if let Ok(child) = xobjects.get(&name).and_then(Object::as_reference) {
            walk_form(doc, child, resources, stack, visits, forms, item)?;
        }
    }
    stack.pop();
    Ok(())
}

/// The names a content stream draws with `Do`.
fn drawn_names(content: Content) -> Vec<Vec<u8>> {
    let mut names: Vec<Vec<u8>> = Vec::new();
    for op in content.operations {
        if op.operator == "Do"
            && let Some(Ok(name)) = op.operands.first().map(Object::as_name)
            && !names.iter().any(|n| n == name)
        {
            names.push(name.to_vec());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use lopdf::{Stream, dictionary};

    use super::*;

    fn doc_with_form(form_draws: &[u8]) -> (Document, ObjectId) {
        let mut doc = Document::with_version("1.5");
        let form: ObjectId = (5, 0);
        let page: ObjectId = (3, 0);
        let pages: ObjectId = (2, 0);
        let resources = dictionary! { "XObject" => dictionary! { "Fm1" => Object::Reference(form) } };
        let stream =
            Stream::new(dictionary! { "Type" => "XObject", "Subtype" => "Form" }, form_draws.to_vec());
        doc.objects.insert(form, Object::Stream(stream));
        doc.objects.insert(
            page,
            Object::Dictionary(dictionary! { "Type" => "Page", "Parent" => Object::Reference(pages), "Resources" => resources }),
        );
        doc.objects.insert(pages, Object::Dictionary(dictionary! { "Type" => "Pages" }));
        (doc, page)
    }

    #[test]
    fn a_form_drawing_itself_is_unsafe() {
        // The form has no resources of its own, so it inherits the page's, which name it.
        let (doc, page) = doc_with_form(b"q /Fm1 Do Q");
        assert_eq!(check_page(&doc, page, &mut FormCache::default(), "t.pdf"), Err(Unsafe::FormCycle));
    }

    #[test]
    fn a_form_drawing_text_is_safe() {
        let (doc, page) = doc_with_form(b"BT /F1 12 Tf (hi) Tj ET");
        assert_eq!(check_page(&doc, page, &mut FormCache::default(), "t.pdf"), Ok(()));
    }

    #[test]
    fn a_looping_parent_chain_is_unsafe() {
        let (mut doc, page) = doc_with_form(b"");
        let pages: ObjectId = (2, 0);
        if let Ok(d) = doc.get_dictionary_mut(pages) {
            d.set("Parent", Object::Reference(page));
        }
        assert_eq!(check_page(&doc, page, &mut FormCache::default(), "t.pdf"), Err(Unsafe::ParentChain));
    }
}
