//! Datasets: pairs of image and mask files, each in a split, listed from a folder pair or from
//! a split file, and described by a TOML file that also says how to decode the masks.
//!
//! # Description files
//!
//! A dataset description (`datasets/*.toml` at the repository root) names the dataset, where
//! its files are, how to list them, how to decode its masks and its classes. Unknown keys are
//! errors.
//!
//! ```toml
//! name = "kvasir_seg"                      # also the folder name under DICEKIT_DATA_ROOT
//! root = "../shared/data/kvasir_seg"       # optional; this is the default
//! classes = ["background", "polyp"]        # label i is classes[i]
//! ignore_label = 255                       # optional; a label that is no class
//!
//! [loader]                                 # how to list the pairs
//! kind = "split_file"                      # a CSV `image,mask,split`, paths relative to the root
//! path = "splits.csv"
//! # or: kind = "folders", images = "images", masks = "masks", mask_suffix = "_mask", split = "train"
//!
//! [mask]                                   # how samples become labels: see MaskDecoding
//! kind = "threshold"
//! threshold = 127.0
//! ```
//!
//! The dataset root is, in order of precedence: the `root_override` argument of
//! [`DatasetDescription::load`] (the dataset folder itself); `$DICEKIT_DATA_ROOT/<name>` when
//! the environment variable `DICEKIT_DATA_ROOT` is set and not empty (a folder holding one
//! folder per dataset); the description's `root`, default `../shared/data/<name>`. A relative
//! `root` is resolved against the repository root: the nearest folder, from the description
//! file's folder upwards, whose `Cargo.toml` has a `[workspace]` table; a description outside
//! any workspace resolves it against its own folder.
//!
//! # Examples
//!
//! ```
//! use dicekit_data::dataset::{DatasetDescription, Split};
//! use dicekit_data::image::{write_image_png, PngDepth};
//! use dicekit_data::Volume;
//! use ndarray::Array3;
//!
//! let dir = std::env::temp_dir().join(format!("dicekit-doc-dataset-mod-{}", std::process::id()));
//! for sub in ["images", "masks"] {
//!     std::fs::create_dir_all(dir.join(sub)).unwrap();
//! }
//! let image = Volume::channels_first(Array3::from_elem((3, 4, 6), 100.0f32).into_dyn());
//! let mask = Volume::channels_first(Array3::from_elem((1, 4, 6), 255.0f32).into_dyn());
//! for id in ["a", "b"] {
//!     write_image_png(&dir.join(format!("images/{id}.png")), &image, PngDepth::Eight)?;
//!     write_image_png(&dir.join(format!("masks/{id}_seg.png")), &mask, PngDepth::Eight)?;
//! }
//! std::fs::write(dir.join("toy.toml"), r#"
//! name = "toy"
//! root = "."
//! classes = ["background", "object"]
//! [loader]
//! kind = "folders"
//! images = "images"
//! masks = "masks"
//! mask_suffix = "_seg"
//! [mask]
//! kind = "threshold"
//! threshold = 127.0
//! "#).unwrap();
//!
//! let description = DatasetDescription::read(&dir.join("toy.toml"))?;
//! let dataset = description.load(Some(&dir))?;
//! assert_eq!(dataset.count(Split::Train), 2);
//! let (image, mask) = description.read_pair(&dataset.items[0])?;
//! assert_eq!((image.channels(), image.spatial_shape()), (3, mask.shape()));
//! assert!(mask.data.iter().all(|&l| l == 1));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), dicekit_data::DataError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::SettingError;
use crate::format::Format;
use crate::image::read_image;
use crate::mask::{MaskDecoding, check_labels, read_mask};
use crate::{DataError, DataErrorKind, Volume};

/// The environment variable naming a folder that holds one folder per dataset.
pub const DATA_ROOT_VAR: &str = "DICEKIT_DATA_ROOT";

/// Which part of a dataset an item belongs to. Written `train`, `val`, `test` in split files
/// and TOML.
///
/// # Examples
///
/// ```
/// use dicekit_data::dataset::Split;
///
/// assert_eq!("val".parse::<Split>(), Ok(Split::Val));
/// assert_eq!(Split::Test.to_string(), "test");
/// assert!("validation".parse::<Split>().is_err());
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Training data.
    #[default]
    Train,
    /// Validation data (model selection, early stopping).
    Val,
    /// Held-out test data.
    Test,
}

impl Split {
    /// `"train"`, `"val"` or `"test"`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(dicekit_data::dataset::Split::Val.as_str(), "val");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Split {
    type Err = String;
    /// Exactly `train`, `val` or `test`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "train" => Ok(Split::Train),
            "val" => Ok(Split::Val),
            "test" => Ok(Split::Test),
            other => Err(format!("split `{other}` is not one of train, val, test")),
        }
    }
}

/// One image and its mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// A name unique within the dataset: the image's file name without extension for a folder
    /// pair; for a split file, the image path without extension and without the folders that
    /// all images share (`Tile 1/images/image_part_001`).
    pub id: String,
    /// The image file.
    pub image: PathBuf,
    /// The mask file.
    pub mask: PathBuf,
    /// Its split.
    pub split: Split,
}

/// A named list of image/mask pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// The dataset's name.
    pub name: String,
    /// The pairs, in the order of the split file or sorted by id.
    pub items: Vec<Item>,
}

impl Dataset {
    /// The items of one split, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::dataset::{Dataset, Item, Split};
    ///
    /// let item = |id: &str, split| Item { id: id.into(), image: "i.png".into(), mask: "m.png".into(), split };
    /// let ds = Dataset { name: "d".into(), items: vec![item("a", Split::Train), item("b", Split::Val)] };
    /// let val: Vec<&str> = ds.split(Split::Val).map(|i| i.id.as_str()).collect();
    /// assert_eq!(val, ["b"]);
    /// ```
    pub fn split(&self, split: Split) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(move |i| i.split == split)
    }

    /// The number of items in one split.
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::dataset::{Dataset, Split};
    ///
    /// assert_eq!(Dataset { name: "empty".into(), items: vec![] }.count(Split::Train), 0);
    /// ```
    pub fn count(&self, split: Split) -> usize {
        self.split(split).count()
    }
}

/// At most `max` names, then how many more.
fn list_names(names: &[String], max: usize) -> String {
    let mut s = names
        .iter()
        .take(max)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > max {
        s.push_str(&format!(" and {} more", names.len() - max));
    }
    s
}

/// `(key, file name, path)` of the image files directly in `dir`, sorted by key, where the key
/// is the name without its image extension and without `suffix` (files whose stem does not end
/// in `suffix` are returned in the second list). Hidden files and other extensions are skipped.
#[allow(clippy::type_complexity)]
fn list_image_files(
    dir: &Path,
    suffix: &str,
) -> Result<(BTreeMap<String, (String, PathBuf)>, Vec<String>), DataError> {
    let io_err = |e| DataErrorKind::Io(e).at(dir);
    let mut keyed = BTreeMap::new();
    let mut without_suffix = Vec::new();
    let mut entries = std::fs::read_dir(dir)
        .map_err(io_err)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io_err)?;
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') || !path.is_file() {
            continue;
        }
        let Some((stem, _)) = Format::split_name(&path) else {
            continue;
        };
        let Some(key) = stem.strip_suffix(suffix) else {
            without_suffix.push(name);
            continue;
        };
        if let Some((other, _)) = keyed.insert(key.to_string(), (name.clone(), path)) {
            return Err(DataErrorKind::Dataset(format!(
                "`{other}` and `{name}` have the same name `{key}`"
            ))
            .at(dir));
        }
    }
    Ok((keyed, without_suffix))
}

/// Lists a folder of images and a folder of masks, pairing them by file name: the mask of
/// `images/<stem>.<ext>` is `masks/<stem><mask_suffix>.<ext2>`, where both extensions are any
/// that [`read_image`] accepts (`.png`, `.jpg`, `.jpeg`, `.tif`, `.tiff`, `.nii`, `.nii.gz`, any
/// case) and need not be the same. Hidden files and files with other extensions are skipped.
/// When both folders are the same, files ending in `mask_suffix` are the masks and the others
/// the images. Every item gets `split`; ids are the image stems, items are sorted by id.
///
/// # Errors
///
/// [`Dataset`](DataErrorKind::Dataset) (path: the images folder) listing the images without a
/// mask and the masks without an image, or naming two files with the same stem;
/// [`Io`](DataErrorKind::Io) when a folder cannot be read.
///
/// # Examples
///
/// ```
/// use dicekit_data::dataset::{load_folders, Split};
///
/// let dir = std::env::temp_dir().join(format!("dicekit-doc-folders-{}", std::process::id()));
/// std::fs::create_dir_all(dir.join("img")).unwrap();
/// std::fs::create_dir_all(dir.join("gt")).unwrap();
/// for name in ["img/01L.jpg", "img/02L.jpg", "gt/01L_1stHO.png", "gt/02L_1stHO.png", "gt/notes.txt"] {
///     std::fs::write(dir.join(name), b"").unwrap();
/// }
/// let ds = load_folders("chase", &dir.join("img"), &dir.join("gt"), "_1stHO", Split::Train)?;
/// assert_eq!(ds.items.len(), 2);
/// assert_eq!(ds.items[1].id, "02L");
/// assert_eq!(ds.items[1].mask, dir.join("gt/02L_1stHO.png"));
///
/// std::fs::write(dir.join("img/03L.jpg"), b"").unwrap();
/// let err = load_folders("chase", &dir.join("img"), &dir.join("gt"), "_1stHO", Split::Train).unwrap_err();
/// assert!(err.to_string().contains("1 image without a mask"), "{err}");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), dicekit_data::DataError>(())
/// ```
pub fn load_folders(
    name: &str,
    images: &Path,
    masks: &Path,
    mask_suffix: &str,
    split: Split,
) -> Result<Dataset, DataError> {
    let same_folder = images == masks;
    let (mut image_files, unsuffixed_images) = list_image_files(images, "")?;
    let (mask_files, unsuffixed_masks) = list_image_files(masks, mask_suffix)?;
    if same_folder && !mask_suffix.is_empty() {
        image_files.retain(|stem, _| !stem.ends_with(mask_suffix));
    }
    debug_assert!(unsuffixed_images.is_empty());
    let lonely_images: Vec<String> = image_files
        .iter()
        .filter(|(k, _)| !mask_files.contains_key(*k))
        .map(|(_, (name, _))| name.clone())
        .collect();
    let mut lonely_masks: Vec<String> = mask_files
        .iter()
        .filter(|(k, _)| !image_files.contains_key(*k))
        .map(|(_, (name, _))| name.clone())
        .collect();
    if !same_folder {
        lonely_masks.extend(unsuffixed_masks);
    }
    if !lonely_images.is_empty() || !lonely_masks.is_empty() {
        let mut parts = Vec::new();
        if !lonely_images.is_empty() {
            parts.push(format!(
                "{} image{} without a mask `<stem>{mask_suffix}.<ext>` in {}: {}",
                lonely_images.len(),
                if lonely_images.len() == 1 { "" } else { "s" },
                masks.display(),
                list_names(&lonely_images, 10)
            ));
        }
        if !lonely_masks.is_empty() {
            parts.push(format!(
                "{} mask{} without an image: {}",
                lonely_masks.len(),
                if lonely_masks.len() == 1 { "" } else { "s" },
                list_names(&lonely_masks, 10)
            ));
        }
        return Err(DataErrorKind::Dataset(parts.join("; ")).at(images));
    }
    let items = image_files
        .into_iter()
        .map(|(key, (_, image))| {
            let mask = mask_files[&key].1.clone();
            Item {
                id: key,
                image,
                mask,
                split,
            }
        })
        .collect();
    Ok(Dataset {
        name: name.to_string(),
        items,
    })
}

/// One row of a split file, its columns found by header name (in any order).
#[derive(Deserialize)]
struct SplitRow {
    image: String,
    mask: String,
    split: String,
}

/// A record of a CSV text: its fields, and the line and column (1-based) where each starts.
struct Record {
    fields: csv::StringRecord,
    at: Vec<(usize, usize)>,
}

impl Record {
    /// The line the record starts on.
    fn line(&self) -> usize {
        self.at.first().map_or(1, |&(line, _)| line)
    }

    /// `line L: msg (column C)` for field `i`.
    fn error(&self, i: usize, msg: impl fmt::Display) -> String {
        let (line, column) = self.at.get(i).copied().unwrap_or((self.line(), 1));
        format!("line {line}: {msg} (column {column})")
    }
}

/// `line:column` (1-based) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The records of a CSV text, read with the `csv` crate (fields separated by `,`, optionally
/// in double quotes with `""` for a quote; CRLF or LF line ends; a UTF-8 BOM is skipped;
/// empty lines are skipped; rows may differ in length, which the caller checks).
///
/// The `csv` crate is lenient where RFC 4180 is not, so each record is checked against the
/// text it was read from: a quote inside an unquoted field (`a"b`), text after a closing
/// quote (`"a"b`), a quoted field that is never closed, or a carriage return that does not end
/// a line (all of which `csv` reads as data) are errors naming the line and column. `csv`'s
/// own line numbers skip empty lines and CRLF ends, so lines are counted here.
fn read_csv(text: &str) -> Result<Vec<Record>, String> {
    // `csv` skips one BOM; its positions count it, those of `body` do not.
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let body = &text[bom..];
    let position = |byte: u64| (byte as usize).saturating_sub(bom).min(body.len());
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    let mut fields = csv::StringRecord::new();
    let mut last_end = 0;
    loop {
        let start = position(reader.position().byte());
        match reader.read_record(&mut fields) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let (line, column) =
                    line_col(body, e.position().map_or(start, |p| position(p.byte())));
                return Err(format!("line {line}: {e} (column {column})"));
            }
        }
        let mut end = position(reader.position().byte());
        if body[..end].ends_with('\r') && body[end..].starts_with('\n') {
            // `csv` ends a CRLF record at the CR and skips the LF with the next record.
            end += 1;
        }
        // The record proper starts after the empty lines that `csv` skipped.
        let start = start + empty_lines(body, start, end)?;
        let starts = check_quoting(&body[start..end], &fields).map_err(|(offset, msg)| {
            let (line, column) = line_col(body, start + offset);
            format!("line {line}: {msg} (column {column})")
        })?;
        let at = starts
            .into_iter()
            .map(|offset| line_col(body, start + offset))
            .collect();
        records.push(Record {
            fields: fields.clone(),
            at,
        });
        last_end = end;
    }
    empty_lines(body, last_end, body.len())?;
    Ok(records)
}

/// The length of the empty lines (`\n` or `\r\n` each) at the start of `body[start..end]`,
/// which `csv` skips; a carriage return that ends no line among them is an error (`csv` takes
/// it for a line end).
fn empty_lines(body: &str, start: usize, end: usize) -> Result<usize, String> {
    let raw = &body[start..end];
    let mut p = 0;
    loop {
        let rest = &raw[p..];
        if rest.starts_with('\n') {
            p += 1;
        } else if rest.starts_with("\r\n") {
            p += 2;
        } else if rest.starts_with('\r') {
            let (line, column) = line_col(body, start + p);
            return Err(format!("line {line}: {} (column {column})", bare_cr()));
        } else {
            return Ok(p);
        }
    }
}

/// Checks that `raw` (one record and its line end) is exactly `fields` written as RFC 4180
/// says: each field as it is, or in quotes with `""` for a quote, separated by `,`. Returns
/// the byte offset of each field in `raw`, or the offset and description of the first
/// problem.
fn check_quoting(raw: &str, fields: &csv::StringRecord) -> Result<Vec<usize>, (usize, String)> {
    let mut p = 0;
    let mut starts = Vec::with_capacity(fields.len());
    for (i, field) in fields.iter().enumerate() {
        starts.push(p);
        let rest = &raw[p..];
        if rest.starts_with('"') {
            let quoted = format!("\"{}\"", field.replace('"', "\"\""));
            if !rest.starts_with(&quoted) {
                return Err(quoted_field_error(raw, p));
            }
            p += quoted.len();
        } else if let Some(q) = field.find('"') {
            return Err((
                p + q,
                "a quote inside an unquoted field (quote the whole field and write it \"\")".into(),
            ));
        } else if rest.starts_with(field) {
            p += field.len();
        } else {
            return Err((p + common_prefix(rest, field), bare_cr().into()));
        }
        let rest = &raw[p..];
        if i + 1 < fields.len() {
            if !rest.starts_with(',') {
                return Err(after_field_error(rest, p));
            }
            p += 1;
        } else if !matches!(rest, "" | "\n" | "\r\n") {
            return Err(after_field_error(rest, p));
        }
    }
    Ok(starts)
}

fn bare_cr() -> &'static str {
    "a carriage return that does not end a line (quote the field that holds it)"
}

/// The length in bytes of the common prefix of `a` and `b`.
fn common_prefix(a: &str, b: &str) -> usize {
    a.char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(a.len().min(b.len()), |((i, _), _)| i)
}

/// What is wrong with the quoted field starting at byte `p` of `raw`.
fn quoted_field_error(raw: &str, p: usize) -> (usize, String) {
    let mut chars = raw[p + 1..].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '"' {
            continue;
        }
        if chars.peek().is_some_and(|&(_, n)| n == '"') {
            chars.next();
            continue;
        }
        // The closing quote.
        return after_field_error(&raw[p + 1 + i + 1..], p + 1 + i + 1);
    }
    (p, "a quoted field is not closed".into())
}

/// What is wrong with `rest`, the text right after a field at byte `p`, which is neither a
/// separator nor a line end.
fn after_field_error(rest: &str, p: usize) -> (usize, String) {
    match rest.chars().next() {
        Some('\r') => (p, bare_cr().into()),
        Some(c) => (p, format!("`{c}` after the closing quote of a field")),
        None => (p, "a record ends early".into()),
    }
}

/// The path as written in a split file, `/`-separated, relative to the dataset root.
fn rel_components(p: &str) -> Vec<&str> {
    p.split(['/', '\\'])
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

/// Reads a split file: a CSV with the header `image,mask,split` (columns in any order, no
/// others), one pair per line, paths relative to `root` (absolute paths are kept), split
/// `train`, `val` or `test`. Fields may be quoted (`"Tile 1/a.jpg"`). Items keep the file's
/// order; see [`Item::id`] for their ids.
///
/// # Errors
///
/// [`Io`](DataErrorKind::Io) when `list` cannot be read; [`Format`](DataErrorKind::Format)
/// naming the line for a bad header, a row with the wrong number of fields, an empty path, an
/// unknown split or bad quoting; [`Dataset`](DataErrorKind::Dataset) listing the files that do
/// not exist, or naming an image listed twice; all with `list`'s path.
///
/// # Examples
///
/// ```
/// use dicekit_data::dataset::{load_split_file, Split};
///
/// let dir = std::env::temp_dir().join(format!("dicekit-doc-splits-{}", std::process::id()));
/// std::fs::create_dir_all(dir.join("Tile 1")).unwrap();
/// for name in ["Tile 1/a.jpg", "Tile 1/a.png", "Tile 1/b.jpg", "Tile 1/b.png"] {
///     std::fs::write(dir.join(name), b"").unwrap();
/// }
/// std::fs::write(dir.join("splits.csv"), "image,mask,split\n\
///     \"Tile 1/a.jpg\",\"Tile 1/a.png\",train\n\
///     \"Tile 1/b.jpg\",\"Tile 1/b.png\",val\n").unwrap();
/// let ds = load_split_file("tiles", &dir, &dir.join("splits.csv"))?;
/// assert_eq!((ds.count(Split::Train), ds.count(Split::Val)), (1, 1));
/// assert_eq!(ds.items[1].id, "b");
/// assert_eq!(ds.items[1].image, dir.join("Tile 1/b.jpg"));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), dicekit_data::DataError>(())
/// ```
pub fn load_split_file(name: &str, root: &Path, list: &Path) -> Result<Dataset, DataError> {
    let text = std::fs::read_to_string(list).map_err(|e| DataErrorKind::Io(e).at(list))?;
    let format = |msg: String| DataErrorKind::Format(msg).at(list);
    let records = read_csv(&text).map_err(format)?;
    let Some((header, rows)) = records.split_first() else {
        return Err(format(
            "empty split file; expected the header image,mask,split".into(),
        ));
    };
    let names: Vec<&str> = header.fields.iter().collect();
    let column = |want: &str| names.iter().position(|h| h.trim() == want);
    let (Some(ci), Some(cm), Some(cs), 3) = (
        column("image"),
        column("mask"),
        column("split"),
        names.len(),
    ) else {
        return Err(format(format!(
            "line {}: header is {names:?}; expected the columns image, mask, split",
            header.line()
        )));
    };
    // The header names, trimmed, for serde to find the columns by.
    let header_names: csv::StringRecord = names.iter().map(|h| h.trim()).collect();
    let mut items = Vec::with_capacity(rows.len());
    let mut seen = BTreeMap::new();
    let mut missing = Vec::new();
    for record in rows {
        let line = record.line();
        if record.fields.len() != 3 {
            return Err(format(format!(
                "line {line}: {} fields, expected 3 (image, mask, split)",
                record.fields.len()
            )));
        }
        let row: SplitRow = record
            .fields
            .deserialize(Some(&header_names))
            .map_err(|e| {
                let (field, msg) = match e.kind() {
                    csv::ErrorKind::Deserialize { err, .. } => (
                        err.field().map_or(0, |f| f as usize),
                        err.kind().to_string(),
                    ),
                    _ => (0, e.to_string()),
                };
                format(record.error(field, msg))
            })?;
        let (image, mask) = (row.image.as_str(), row.mask.as_str());
        if image.is_empty() || mask.is_empty() {
            let empty = if image.is_empty() { ci } else { cm };
            return Err(format(record.error(empty, "empty image or mask path")));
        }
        let split: Split = row
            .split
            .trim()
            .parse()
            .map_err(|e| format(record.error(cs, e)))?;
        if let Some(first) = seen.insert(image.to_string(), line) {
            return Err(DataErrorKind::Dataset(format!(
                "image `{image}` is listed on line {first} and again on line {line}"
            ))
            .at(list));
        }
        let (image_path, mask_path) = (root.join(image), root.join(mask));
        for (rel, path) in [(image, &image_path), (mask, &mask_path)] {
            if !path.is_file() {
                missing.push(rel.to_string());
            }
        }
        items.push(Item {
            id: image.to_string(),
            image: image_path,
            mask: mask_path,
            split,
        });
    }
    if !missing.is_empty() {
        return Err(DataErrorKind::Dataset(format!(
            "{} listed file{} not found under {}: {}",
            missing.len(),
            if missing.len() == 1 { " is" } else { "s are" },
            root.display(),
            list_names(&missing, 10)
        ))
        .at(list));
    }
    // Ids: the image path without the folders all images share, and without its extension.
    let dirs: Vec<Vec<&str>> = items
        .iter()
        .map(|i| {
            let c = rel_components(&i.id);
            c[..c.len().saturating_sub(1)].to_vec()
        })
        .collect();
    let shared = dirs.first().map_or(0, |first| {
        (0..first.len())
            .take_while(|&k| dirs.iter().all(|d| d.get(k) == first.get(k)))
            .count()
    });
    for item in &mut items {
        let c = rel_components(&item.id);
        let file = c.last().copied().unwrap_or_default();
        let stem = Format::split_name(Path::new(file)).map_or_else(|| file.to_string(), |(s, _)| s);
        let mut parts: Vec<&str> =
            c[shared.min(c.len().saturating_sub(1))..c.len().saturating_sub(1)].to_vec();
        parts.push(&stem);
        item.id = parts.join("/");
    }
    Ok(Dataset {
        name: name.to_string(),
        items,
    })
}

/// Reads an item's image and mask (the mask as an image too, so any mask decodes) and checks
/// that their spatial sizes agree.
///
/// # Errors
///
/// The errors of [`read_image`] for either file;
/// [`SizeMismatch`](DataErrorKind::SizeMismatch) with the image's path, naming the mask and
/// both spatial shapes.
///
/// # Examples
///
/// ```
/// use dicekit_data::dataset::{check_pair, Item, Split};
/// use dicekit_data::image::{write_image_png, PngDepth};
/// use dicekit_data::{DataErrorKind, Volume};
/// use ndarray::Array3;
///
/// let dir = std::env::temp_dir().join(format!("dicekit-doc-check-pair-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let png = |name: &str, h, w| {
///     let v = Volume::channels_first(Array3::<f32>::zeros((1, h, w)).into_dyn());
///     write_image_png(&dir.join(name), &v, PngDepth::Eight).map(|_| dir.join(name))
/// };
/// let item = Item { id: "a".into(), image: png("a.png", 4, 5)?, mask: png("a_mask.png", 4, 6)?, split: Split::Train };
/// let err = check_pair(&item).unwrap_err();
/// assert!(matches!(err.kind(), DataErrorKind::SizeMismatch { .. }));
/// let msg = err.to_string(); // "<dir>/a.png: spatial size [4, 5] differs from <dir>/a_mask.png's [4, 6]"
/// assert!(msg.contains("a.png: spatial size [4, 5] differs from ") && msg.ends_with("a_mask.png's [4, 6]"), "{msg}");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), dicekit_data::DataError>(())
/// ```
pub fn check_pair(item: &Item) -> Result<(), DataError> {
    let image = read_image(&item.image)?;
    let mask = read_image(&item.mask)?;
    same_size(&item.image, &image, &item.mask, &mask)
}

fn same_size<A, B>(
    image_path: &Path,
    image: &Volume<A>,
    mask_path: &Path,
    mask: &Volume<B>,
) -> Result<(), DataError> {
    if image.spatial_shape() == mask.spatial_shape() {
        Ok(())
    } else {
        Err(DataErrorKind::SizeMismatch {
            shape: image.spatial_shape().to_vec(),
            other: mask_path.to_path_buf(),
            other_shape: mask.spatial_shape().to_vec(),
        }
        .at(image_path))
    }
}

/// How a description lists its pairs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Loader {
    /// [`load_folders`]: a folder of images and a folder of masks, relative to the root.
    Folders {
        /// The images' folder.
        images: PathBuf,
        /// The masks' folder (may be the images' folder).
        masks: PathBuf,
        /// What mask stems add to image stems (`_1stHO`); default none.
        #[serde(default)]
        mask_suffix: String,
        /// The split of every item; default `train`.
        #[serde(default)]
        split: Split,
    },
    /// [`load_split_file`]: a CSV `image,mask,split`, relative to the root, as are its paths.
    SplitFile {
        /// The CSV file.
        path: PathBuf,
    },
}

/// A dataset description: where the files are, how to list them, how to decode the masks,
/// the classes. Read from TOML by [`DatasetDescription::read`]; see the
/// [module docs](crate::dataset) for the format and how the root is found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetDescription {
    /// The dataset's name; also its folder name under `$DICEKIT_DATA_ROOT`. Letters, digits,
    /// `_`, `-` and `.`, not starting with `.`.
    pub name: String,
    /// The dataset folder; default `../shared/data/<name>`. A relative path is resolved
    /// against the repository root (see the module docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<PathBuf>,
    /// Class names: label `i` is `classes[i]`.
    pub classes: Vec<String>,
    /// A label that is no class (pixels to ignore), if the masks have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_label: Option<u32>,
    /// How to list the pairs.
    pub loader: Loader,
    /// How to decode the masks.
    pub mask: MaskDecoding,
    /// The file the description was read from (set by [`DatasetDescription::read`]), which
    /// anchors a relative `root`. Not a TOML key.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// The repository root above `start`: the nearest folder (`start` included) whose `Cargo.toml`
/// has a `[workspace]` table.
fn repository_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        manifest
            .lines()
            .any(|l| l.trim() == "[workspace]")
            .then(|| dir.to_path_buf())
    })
}

impl DatasetDescription {
    /// Reads and validates a description file, and records its path in
    /// [`source`](Self::source).
    ///
    /// # Errors
    ///
    /// [`Io`](DataErrorKind::Io) when it cannot be read; [`Format`](DataErrorKind::Format) for
    /// TOML syntax errors, unknown keys, missing or mistyped values (with the line and column)
    /// and what [`validate`](Self::validate) rejects.
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::dataset::DatasetDescription;
    ///
    /// let dir = std::env::temp_dir().join(format!("dicekit-doc-describe-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("bad.toml");
    /// std::fs::write(&path, "name = 'x'\nclases = ['a']\n").unwrap();
    /// let err = DatasetDescription::read(&path).unwrap_err();
    /// assert!(err.to_string().contains("unknown field `clases`"), "{err}");
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn read(path: &Path) -> Result<Self, DataError> {
        let text = std::fs::read_to_string(path).map_err(|e| DataErrorKind::Io(e).at(path))?;
        let mut d: DatasetDescription = toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let (l, c) = line_col(&text, s.start);
                    format!("line {l}, column {c}: ")
                })
                .unwrap_or_default();
            DataErrorKind::Format(format!(
                "{at}{}",
                e.message().trim().replace(['\n', '\r'], " ")
            ))
            .at(path)
        })?;
        d.validate()
            .map_err(|msg| DataErrorKind::Format(msg.into()).at(path))?;
        d.source = Some(path.to_path_buf());
        Ok(d)
    }

    /// Checks the values: a name usable as a folder name; at least one class; an ignore label
    /// that is not a class; a valid mask decoding ([`MaskDecoding::validate`]) whose labels
    /// are all classes or the ignore label (a threshold needs 2 classes).
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::dataset::{DatasetDescription, Loader};
    /// use dicekit_data::mask::MaskDecoding;
    ///
    /// let d = DatasetDescription {
    ///     name: "x".into(),
    ///     root: None,
    ///     classes: vec!["background".into()],
    ///     ignore_label: None,
    ///     loader: Loader::SplitFile { path: "splits.csv".into() },
    ///     mask: MaskDecoding::Threshold { threshold: 0.5, channel: 0 },
    ///     source: None,
    /// };
    /// assert!(d.validate().unwrap_err().contains("label 1"));
    /// ```
    pub fn validate(&self) -> Result<(), SettingError> {
        self.check().map_err(SettingError)
    }

    fn check(&self) -> Result<(), String> {
        let name_ok = !self.name.is_empty()
            && !self.name.starts_with('.')
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !name_ok {
            return Err(format!(
                "name `{}` must be letters, digits, `_`, `-` and `.`, not starting with `.`",
                self.name
            ));
        }
        if self.classes.is_empty() {
            return Err("classes is empty".into());
        }
        let n = self.classes.len() as u32;
        if let Some(ignore) = self.ignore_label
            && ignore < n
        {
            return Err(format!(
                "ignore_label {ignore} is also class `{}`",
                self.classes[ignore as usize]
            ));
        }
        self.mask.validate()?;
        if let Some(labels) = self.mask.labels()
            && let Some(bad) = labels
                .iter()
                .find(|&&l| l >= n && Some(l) != self.ignore_label)
        {
            return Err(format!(
                "mask decoding gives label {bad}, but there are {n} classes (0 to {}) and {}",
                n - 1,
                match self.ignore_label {
                    Some(i) => format!("the ignore label is {i}"),
                    None => "no ignore label".into(),
                }
            ));
        }
        Ok(())
    }

    /// The dataset folder: `root_override` if given; else `$DICEKIT_DATA_ROOT/<name>` if that
    /// variable is set and not empty; else `root` (default `../shared/data/<name>`), resolved
    /// against the repository root above [`source`](Self::source) when relative (see the
    /// [module docs](crate::dataset)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::path::Path;
    /// use dicekit_data::dataset::{DatasetDescription, Loader};
    /// use dicekit_data::mask::MaskDecoding;
    ///
    /// let d = DatasetDescription {
    ///     name: "x".into(),
    ///     root: Some("/data/x".into()),
    ///     classes: vec!["background".into(), "object".into()],
    ///     ignore_label: None,
    ///     loader: Loader::SplitFile { path: "splits.csv".into() },
    ///     mask: MaskDecoding::Labels,
    ///     source: None,
    /// };
    /// assert_eq!(d.root_folder(Some(Path::new("/elsewhere/x"))), Path::new("/elsewhere/x"));
    /// if std::env::var_os("DICEKIT_DATA_ROOT").is_none() {
    ///     assert_eq!(d.root_folder(None), Path::new("/data/x"));
    /// }
    /// ```
    pub fn root_folder(&self, root_override: Option<&Path>) -> PathBuf {
        if let Some(root) = root_override {
            return root.to_path_buf();
        }
        if let Some(env) = std::env::var_os(DATA_ROOT_VAR).filter(|v| !v.is_empty()) {
            return PathBuf::from(env).join(&self.name);
        }
        let root = self
            .root
            .clone()
            .unwrap_or_else(|| Path::new("../shared/data").join(&self.name));
        if root.is_absolute() {
            return root;
        }
        let Some(source) = &self.source else {
            return root;
        };
        let folder = source.parent().unwrap_or(Path::new(""));
        let folder = std::fs::canonicalize(if folder.as_os_str().is_empty() {
            Path::new(".")
        } else {
            folder
        })
        .unwrap_or_else(|_| folder.to_path_buf());
        repository_root(&folder).unwrap_or(folder).join(root)
    }

    /// Lists the dataset's pairs with its loader, under [`root_folder`](Self::root_folder).
    ///
    /// # Errors
    ///
    /// Those of [`load_folders`] and [`load_split_file`].
    ///
    /// # Examples
    ///
    /// See the [module docs](crate::dataset).
    pub fn load(&self, root_override: Option<&Path>) -> Result<Dataset, DataError> {
        let root = self.root_folder(root_override);
        match &self.loader {
            Loader::Folders {
                images,
                masks,
                mask_suffix,
                split,
            } => load_folders(
                &self.name,
                &root.join(images),
                &root.join(masks),
                mask_suffix,
                *split,
            ),
            Loader::SplitFile { path } => load_split_file(&self.name, &root, &root.join(path)),
        }
    }

    /// Reads a mask with the description's decoding ([`read_mask`]) and checks that every
    /// label is a class or the ignore label ([`check_labels`]).
    ///
    /// # Errors
    ///
    /// Those of [`read_mask`], and [`LabelOutOfRange`](DataErrorKind::LabelOutOfRange).
    ///
    /// # Examples
    ///
    /// See the [module docs](crate::dataset).
    pub fn read_mask(&self, path: &Path) -> Result<Volume<u32>, DataError> {
        let mask = read_mask(path, &self.mask)?;
        check_labels(path, &mask, self.classes.len() as u32, self.ignore_label)?;
        Ok(mask)
    }

    /// Reads an item's image ([`read_image`], `[C, ...S]`) and mask
    /// ([`read_mask`](Self::read_mask), `[...S]`), and checks that their spatial shapes agree.
    ///
    /// # Errors
    ///
    /// Those of [`read_image`] and [`read_mask`](Self::read_mask), and
    /// [`SizeMismatch`](DataErrorKind::SizeMismatch) (the image's path, naming the mask).
    ///
    /// # Examples
    ///
    /// See the [module docs](crate::dataset).
    pub fn read_pair(&self, item: &Item) -> Result<(Volume<f32>, Volume<u32>), DataError> {
        let image = read_image(&item.image)?;
        let mask = self.read_mask(&item.mask)?;
        same_size(&item.image, &image, &item.mask, &mask)?;
        Ok((image, mask))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<Vec<String>> {
        read_csv(text)
            .unwrap()
            .into_iter()
            .map(|r| r.fields.iter().map(String::from).collect())
            .collect()
    }

    #[test]
    fn csv_handles_quotes_commas_crlf_bom_and_blank_lines() {
        let text = "\u{feff}image,mask,split\r\n\"a, b.jpg\",\"say \"\"hi\"\".png\",train\r\n\r\nc.jpg,c.png,val";
        assert_eq!(
            fields(text),
            vec![
                vec!["image", "mask", "split"],
                vec!["a, b.jpg", "say \"hi\".png", "train"],
                vec!["c.jpg", "c.png", "val"],
            ]
        );
        let lines: Vec<usize> = read_csv(text).unwrap().iter().map(Record::line).collect();
        assert_eq!(lines, [1, 2, 4]);
    }

    #[test]
    fn csv_keeps_newlines_inside_quotes_and_counts_lines() {
        let recs = read_csv("a,b\n\"x\ny\",z\n\n\nlast,one\n").unwrap();
        assert_eq!(recs[1].line(), 2);
        assert_eq!(recs[1].fields.iter().collect::<Vec<_>>(), ["x\ny", "z"]);
        assert_eq!(recs[1].at, [(2, 1), (3, 4)]);
        assert_eq!(recs[2].line(), 6);
    }

    #[test]
    fn csv_rejects_bad_quoting_naming_the_line() {
        for (bad, line, column) in [
            ("a,b\n\"open,c\n", "line 2", 1),
            ("a,b\n\"x\"y,c\n", "line 2", 4),
            ("a,b\nx\"y,c\n", "line 2", 2),
            ("a,b\nc,d\re,f\n", "line 2", 4),
            ("a,b\r\n\r\r\nc,d\n", "line 2", 1),
            ("a,b\nc,d\r", "line 2", 4),
        ] {
            let err = read_csv(bad).err().unwrap();
            assert!(err.starts_with(line), "{bad:?}: {err}");
            assert!(
                err.ends_with(&format!("(column {column})")),
                "{bad:?}: {err}"
            );
        }
        let err = read_csv("a,b\n\"x\"y,c\n").err().unwrap();
        assert_eq!(
            err,
            "line 2: `y` after the closing quote of a field (column 4)"
        );
    }

    #[test]
    fn empty_quoted_field_is_a_field() {
        assert_eq!(fields("\"\"\n"), vec![vec![""]]);
        assert_eq!(fields("a,\n"), vec![vec!["a", ""]]);
    }

    #[test]
    fn line_col_is_one_based() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
