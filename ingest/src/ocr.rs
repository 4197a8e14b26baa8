//! Optical character recognition of PDF pages that have no text layer: each page is rendered
//! by poppler's `pdftoppm` and read by `tesseract`, one page at a time, each program run without
//! a shell and killed when it overruns [`OcrOptions::timeout`].
//!
//! A page's text is kept in a cache (when [`OcrOptions::cache_dir`] is set: the library's
//! `ocr/` folder), keyed by the file's content hash, the page number, the languages and the
//! resolution, so a book whose OCR was interrupted resumes where it stopped. Entries are written
//! to a temporary name and renamed, so a kill never leaves half a page; folders are made 0700 and
//! files 0600 (Unix), like the rest of a library.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// When pages are read by OCR (`ingest.ocr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OcrMode {
    /// Pages without text that draw an image, when tesseract is installed.
    #[default]
    Auto,
    /// Never: a PDF without a text layer is refused.
    Never,
    /// Every page, its text layer ignored.
    Always,
}

impl OcrMode {
    /// The name used in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            OcrMode::Auto => "auto",
            OcrMode::Never => "never",
            OcrMode::Always => "always",
        }
    }
}

impl std::str::FromStr for OcrMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(OcrMode::Auto),
            "never" => Ok(OcrMode::Never),
            "always" => Ok(OcrMode::Always),
            _ => Err(format!("unknown OCR mode {s:?} (one of auto, never, always)")),
        }
    }
}

/// How pages are read by OCR.
#[derive(Debug, Clone)]
pub struct OcrOptions {
    /// When to OCR.
    pub mode: OcrMode,
    /// The languages asked for (`ingest.ocr_languages`), as ISO 639-1 codes or tesseract's own
    /// names (`eng`, `chi_sim`); empty: English and the [`OcrOptions::library_languages`].
    pub languages: Vec<String>,
    /// ISO 639-1 codes of the languages the library already holds.
    pub library_languages: Vec<String>,
    /// Where page texts are cached; `None` keeps no cache.
    pub cache_dir: Option<PathBuf>,
    /// Longest run of one program on one page.
    pub timeout: Duration,
    /// Resolution pages are rendered at, in dots per inch.
    pub dpi: u32,
    /// The tesseract program.
    pub tesseract: PathBuf,
    /// poppler's pdftoppm program.
    pub pdftoppm: PathBuf,
}

impl Default for OcrOptions {
    fn default() -> Self {
        OcrOptions {
            mode: OcrMode::Auto,
            languages: Vec::new(),
            library_languages: Vec::new(),
            cache_dir: None,
            timeout: Duration::from_secs(120),
            dpi: 300,
            tesseract: PathBuf::from("tesseract"),
            pdftoppm: PathBuf::from("pdftoppm"),
        }
    }
}

/// One page read by OCR, reported as it goes.
#[derive(Debug, Clone, Copy)]
pub struct OcrProgress {
    /// The page just read (1-based).
    pub page: u32,
    /// Pages read so far, this one included.
    pub done: usize,
    /// Pages to read in this file.
    pub total: usize,
    /// Its text came from the cache.
    pub cached: bool,
}

/// How to install tesseract, for messages.
pub const INSTALL_HINT: &str = "install tesseract to read them (Debian/Ubuntu: apt install tesseract-ocr; macOS: brew install tesseract)";

/// Why OCR could not run or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OcrFailure {
    /// tesseract (or pdftoppm) is not installed.
    Missing(String),
    /// A program failed, overran its time or gave unreadable output.
    Failed(String),
}

/// The tesseract name of an ISO 639-1 language, for the languages tesseract ships.
pub fn tesseract_code(iso: &str) -> Option<&'static str> {
    Some(match iso {
        "en" => "eng",
        "zh" => "chi_sim",
        "ja" => "jpn",
        "ko" => "kor",
        "de" => "deu",
        "fr" => "fra",
        "es" => "spa",
        "it" => "ita",
        "pt" => "por",
        "ru" => "rus",
        "nl" => "nld",
        "sv" => "swe",
        "pl" => "pol",
        "ar" => "ara",
        "hi" => "hin",
        "tr" => "tur",
        "uk" => "ukr",
        "cs" => "ces",
        "da" => "dan",
        "fi" => "fin",
        "no" | "nb" => "nor",
        "el" => "ell",
        "he" => "heb",
        "hu" => "hun",
        "vi" => "vie",
        "th" => "tha",
        "id" => "ind",
        "ro" => "ron",
        "bg" => "bul",
        "ca" => "cat",
        "fa" => "fas",
        _ => return None,
    })
}

/// The OCR languages to use, `+`-joined as tesseract takes them: those asked for (ISO codes
/// mapped to tesseract's names), else English and the library's languages; in both cases only
/// those tesseract has (`installed`), English when none is.
pub(crate) fn choose_languages(opts: &OcrOptions, installed: &[String]) -> Result<String, OcrFailure> {
    let asked: Vec<String> = if opts.languages.is_empty() {
        std::iter::once("en")
            .chain(opts.library_languages.iter().map(String::as_str))
            .filter_map(tesseract_code)
            .map(str::to_string)
            .collect()
    } else {
        opts.languages
            .iter()
            .map(|l| tesseract_code(l.trim()).map_or_else(|| l.trim().to_string(), str::to_string))
            .collect()
    };
    let mut chosen: Vec<String> = Vec::new();
    for lang in asked {
        if installed.contains(&lang) && !chosen.contains(&lang) {
            chosen.push(lang);
        }
    }
    if chosen.is_empty() {
        if installed.iter().any(|l| l == "eng") {
            chosen.push("eng".into());
        } else {
            return Err(OcrFailure::Missing(format!(
                "tesseract has none of the OCR languages {} (see tesseract --list-langs; Debian: apt install tesseract-ocr-eng)",
                opts.languages.join(", ")
            )));
        }
    }
    Ok(chosen.join("+"))
}

/// The languages tesseract has (`tesseract --list-langs`), `osd` left out.
pub(crate) fn installed_languages(opts: &OcrOptions) -> Result<Vec<String>, OcrFailure> {
    let mut cmd = Command::new(&opts.tesseract);
    cmd.arg("--list-langs");
    let out = run(cmd, None, opts.timeout, "tesseract").map_err(|f| match f {
        OcrFailure::Missing(_) => OcrFailure::Missing(format!("tesseract is not installed: {INSTALL_HINT}")),
        other => other,
    })?;
    let text = String::from_utf8_lossy(&out);
    Ok(text
        .lines()
        .skip_while(|l| !l.starts_with("List of available languages"))
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "osd")
        .map(str::to_string)
        .collect())
}

/// Reads pages of a PDF by OCR.
pub(crate) struct PageReader<'a> {
    opts: &'a OcrOptions,
    languages: String,
    /// The PDF written out for pdftoppm, removed when the reader is dropped.
    file: tempfile::NamedTempFile,
    cache: Option<PathBuf>,
}

impl<'a> PageReader<'a> {
    /// A reader of the PDF `bytes` (content hash `hash`), in `languages`.
    pub(crate) fn new(
        opts: &'a OcrOptions,
        bytes: &[u8],
        hash: &str,
        languages: String,
    ) -> Result<Self, OcrFailure> {
        let failed = |e: std::io::Error| OcrFailure::Failed(format!("cannot write the PDF for OCR: {e}"));
        let mut file =
            tempfile::Builder::new().prefix("lore-ocr-").suffix(".pdf").tempfile().map_err(failed)?;
        file.write_all(bytes).map_err(failed)?;
        file.flush().map_err(failed)?;
        let cache = opts.cache_dir.as_ref().map(|d| d.join(hash));
        Ok(PageReader { opts, languages, file, cache })
    }

    fn cache_file(&self, page: u32) -> Option<PathBuf> {
        let key = format!("p{page}-{}-{}dpi.txt", self.languages, self.opts.dpi);
        self.cache.as_ref().map(|d| d.join(key))
    }

    /// The text of `page` (1-based) and whether it came from the cache.
    pub(crate) fn read(&self, page: u32) -> Result<(String, bool), OcrFailure> {
        let cached = self.cache_file(page);
        if let Some(path) = &cached
            && let Ok(text) = std::fs::read_to_string(path)
        {
            return Ok((text, true));
        }
        let mut render = Command::new(&self.opts.pdftoppm);
        render
            .args(["-f", &page.to_string(), "-l", &page.to_string(), "-r", &self.opts.dpi.to_string()])
            .args(["-gray", "-png", "-singlefile"])
            .arg(self.file.path());
        let image = run(render, None, self.opts.timeout, "pdftoppm").map_err(|f| match f {
            OcrFailure::Missing(_) => {
                OcrFailure::Missing("pdftoppm is not installed (Debian: apt install poppler-utils)".into())
            }
            other => other,
        })?;
        if image.is_empty() {
            return Err(OcrFailure::Failed(format!("pdftoppm rendered nothing for page {page}")));
        }
        let mut ocr = Command::new(&self.opts.tesseract);
        ocr.args(["stdin", "stdout", "-l", &self.languages, "--psm", "3"])
            // One thread per page: tesseract's OpenMP threads spin and cost more than they give
            // on a machine with other work.
            .env("OMP_THREAD_LIMIT", "1");
        let out = run(ocr, Some(&image), self.opts.timeout, "tesseract").map_err(|f| match f {
            OcrFailure::Missing(_) => {
                OcrFailure::Missing(format!("tesseract is not installed: {INSTALL_HINT}"))
            }
            other => other,
        })?;
        let text = clean_text(&String::from_utf8_lossy(&out));
        if let Some(path) = &cached {
            // A cache that cannot be written only costs a rerun the work again.
            let _ = write_private(path, &text);
        }
        Ok((text, false))
    }
}

/// Tesseract's text tidied: form feeds and trailing spaces dropped, and the spaces it puts
/// between Chinese, Japanese and Korean characters removed.
pub(crate) fn clean_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for line in raw.replace('\u{c}', "\n").lines() {
        let chars: Vec<char> = line.trim().chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            if c.is_whitespace() {
                let prev = out.chars().last();
                let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
                if prev.is_some_and(is_cjk) && next.is_some_and(|n| is_cjk(*n)) {
                    continue;
                }
                if prev.is_some_and(char::is_whitespace) {
                    continue;
                }
                out.push(' ');
            } else {
                out.push(c);
            }
        }
        out.push('\n');
    }
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x303F | 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF
        | 0xF900..=0xFAFF | 0xFF00..=0xFFEF)
}

/// Writes `text` to `path` through a temporary file renamed into place, the folders made
/// 0700 and the file 0600.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let Some(dir) = path.parent() else { return Ok(()) };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".page-").tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Runs a program without a shell, feeding it `input`, and returns its standard output. It is
/// killed when it runs longer than `timeout`. `name` names it in messages.
pub(crate) fn run(
    mut cmd: Command,
    input: Option<&[u8]>,
    timeout: Duration,
    name: &str,
) -> Result<Vec<u8>, OcrFailure> {
    cmd.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => OcrFailure::Missing(format!("{name} is not installed")),
        _ => OcrFailure::Failed(format!("cannot run {name}: {e}")),
    })?;
    let feeder = match (input, child.stdin.take()) {
        (Some(bytes), Some(mut stdin)) => {
            let bytes = bytes.to_vec();
            // A program that exits early closes the pipe: the write error is of no interest.
            Some(std::thread::spawn(move || {
                let _ = stdin.write_all(&bytes);
            }))
        }
        _ => None,
    };
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = reader(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = reader(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(OcrFailure::Failed(format!("{name} took longer than {} s", timeout.as_secs())));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(OcrFailure::Failed(format!("{name}: {e}")));
            }
        }
    };
    if let Some(f) = feeder {
        let _ = f.join();
    }
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    let status = status?;
    if !status.success() {
        let detail: String = String::from_utf8_lossy(&err)
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or("")
            .chars()
            .take(200)
            .collect();
        let code = status.code().map_or_else(|| "a signal".to_string(), |c| format!("status {c}"));
        return Err(OcrFailure::Failed(if detail.is_empty() {
            format!("{name} failed with {code}")
        } else {
            format!("{name} failed with {code}: {detail}")
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_default_to_english_and_the_librarys_that_are_installed() {
        let installed = vec!["chi_sim".to_string(), "eng".to_string()];
        let mut opts = OcrOptions { library_languages: vec!["zh".into(), "de".into()], ..Default::default() };
        assert_eq!(choose_languages(&opts, &installed).unwrap(), "eng+chi_sim");
        opts.languages = vec!["zh".into()];
        assert_eq!(choose_languages(&opts, &installed).unwrap(), "chi_sim");
        opts.languages = vec!["fra".into()];
        assert_eq!(choose_languages(&opts, &installed).unwrap(), "eng", "English when none is installed");
        let err = choose_languages(&opts, &["deu".to_string()]).unwrap_err();
        assert!(matches!(err, OcrFailure::Missing(ref m) if m.contains("fra")), "{err:?}");
    }

    #[test]
    fn cjk_characters_lose_the_spaces_tesseract_puts_between_them() {
        assert_eq!(clean_text("商 品 编 码 is  here\n\n中文 text\u{c}"), "商品编码 is here\n\n中文 text\n");
    }

    #[test]
    fn a_program_that_overruns_is_killed_and_a_missing_one_is_named() {
        let mut sleep = Command::new("sleep");
        sleep.arg("5");
        let started = Instant::now();
        let err = run(sleep, None, Duration::from_secs(1), "sleep").unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(4));
        assert_eq!(err, OcrFailure::Failed("sleep took longer than 1 s".into()));
        let err = run(Command::new("/nonexistent/tesseract"), None, Duration::from_secs(1), "tesseract")
            .unwrap_err();
        assert_eq!(err, OcrFailure::Missing("tesseract is not installed".into()));
        let mut fails = Command::new("sh");
        fails.args(["-c", "echo bad input >&2; exit 3"]);
        let err = run(fails, None, Duration::from_secs(5), "sh").unwrap_err();
        assert_eq!(err, OcrFailure::Failed("sh failed with status 3: bad input".into()));
        let mut cat = Command::new("cat");
        cat.stdin(Stdio::piped());
        assert_eq!(run(cat, Some(b"page"), Duration::from_secs(5), "cat").unwrap(), b"page");
    }
}
