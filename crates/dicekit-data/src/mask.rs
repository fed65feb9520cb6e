//! Segmentation masks stored as images: label maps as they are, gray masks to threshold, and
//! colour-coded masks with a colour table, all decoded into a label map `Volume<u32>` of shape
//! `[...S]` (no channel axis; see the [image module](crate::image) for the two shapes).
//!
//! # Examples
//!
//! ```
//! use dicekit_data::image::{write_image_png, PngDepth};
//! use dicekit_data::mask::{read_mask, MaskDecoding, UnknownColour};
//! use dicekit_data::Volume;
//! use ndarray::array;
//!
//! let dir = std::env::temp_dir().join(format!("dicekit-doc-mask-mod-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! // A 1 x 3 RGB mask: red, blue, black.
//! let rgb = array![[[255.0f32, 0.0, 0.0]], [[0.0, 0.0, 0.0]], [[0.0, 255.0, 0.0]]];
//! write_image_png(&dir.join("mask.png"), &Volume::channels_first(rgb.into_dyn()), PngDepth::Eight)?;
//!
//! let decoding = MaskDecoding::ColourTable {
//!     colours: vec![([255, 0, 0], 1), ([0, 0, 255], 2)],
//!     unknown: UnknownColour::Ignore(255),
//! };
//! let mask = read_mask(&dir.join("mask.png"), &decoding)?;
//! assert_eq!(mask.data, array![[1u32, 2, 255]].into_dyn());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), dicekit_data::DataError>(())
//! ```

use std::io::{BufRead, Seek};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::format::{self, Format, IMAGE_EXTENSIONS, MAX_BYTES, Purpose};
use crate::labels::{alloc_labels, unravel_last_fastest};
use crate::{DataError, DataErrorKind, Volume};

/// How the samples of a mask file become labels. In TOML (a dataset description's `[mask]`
/// table), the variant is the `kind` key:
///
/// ```toml
/// kind = "labels"
/// # or
/// kind = "threshold"
/// threshold = 127.0
/// channel = 0            # optional, default 0
/// # or
/// kind = "colour_table"
/// unknown = "error"      # or: unknown = { ignore = 255 }
/// colours = [{ colour = "#3C1098", label = 0 }, { colour = "#8429F6", label = 1 }]
/// ```
///
/// Unknown keys are errors.
///
/// # Examples
///
/// ```
/// use dicekit_data::mask::{MaskDecoding, UnknownColour};
///
/// let d: MaskDecoding = toml::from_str(
///     "kind = 'colour_table'\nunknown = { ignore = 255 }\ncolours = [{ colour = '#3C1098', label = 0 }]",
/// ).unwrap();
/// assert_eq!(
///     d,
///     MaskDecoding::ColourTable { colours: vec![([0x3C, 0x10, 0x98], 0)], unknown: UnknownColour::Ignore(255) }
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "DecodingRepr", into = "DecodingRepr")]
pub enum MaskDecoding {
    /// The stored values are the labels, read by [`read_label_map`](crate::read_label_map)
    /// (NIfTI, PNG gray or palette INDEX, TIFF gray). JPEG masks are refused: JPEG is lossy,
    /// so its values are not exact labels.
    Labels,
    /// `value > threshold` is label 1, anything else (NaN too) label 0, on one channel of the
    /// image read by [`read_image`](crate::image::read_image): gray masks, the red channel of
    /// R = G = B JPEG masks (`channel` 0), 1-bit PNGs (stored 0/1, so any threshold in
    /// `[0, 1)` works), probability maps in NIfTI or TIFF.
    Threshold {
        /// Values strictly above it are foreground.
        threshold: f64,
        /// The channel compared (0 = gray or red). Default 0 in TOML.
        channel: usize,
    },
    /// Each pixel's colour is looked up in a table. The image is decoded to RGB first (palette
    /// PNGs through their palette; a gray pixel `v` is the colour `(v, v, v)`; alpha is
    /// ignored); samples must be 8-bit values (integers 0 to 255). The first entry with the
    /// colour wins.
    ColourTable {
        /// `([r, g, b], label)` pairs; in TOML `{ colour = "#RRGGBB", label = N }`.
        colours: Vec<([u8; 3], u32)>,
        /// What a colour missing from the table becomes.
        unknown: UnknownColour,
    },
}

/// The serde form of [`MaskDecoding`]. `Labels` is a struct variant here so that
/// `deny_unknown_fields` also rejects extra keys next to `kind = "labels"` (serde ignores
/// them for unit variants of internally tagged enums).
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum DecodingRepr {
    Labels {},
    Threshold {
        threshold: f64,
        #[serde(default)]
        channel: usize,
    },
    ColourTable {
        #[serde(with = "colour_list")]
        colours: Vec<([u8; 3], u32)>,
        unknown: UnknownColour,
    },
}

impl From<DecodingRepr> for MaskDecoding {
    fn from(r: DecodingRepr) -> Self {
        match r {
            DecodingRepr::Labels {} => MaskDecoding::Labels,
            DecodingRepr::Threshold { threshold, channel } => {
                MaskDecoding::Threshold { threshold, channel }
            }
            DecodingRepr::ColourTable { colours, unknown } => {
                MaskDecoding::ColourTable { colours, unknown }
            }
        }
    }
}

impl From<MaskDecoding> for DecodingRepr {
    fn from(d: MaskDecoding) -> Self {
        match d {
            MaskDecoding::Labels => DecodingRepr::Labels {},
            MaskDecoding::Threshold { threshold, channel } => {
                DecodingRepr::Threshold { threshold, channel }
            }
            MaskDecoding::ColourTable { colours, unknown } => {
                DecodingRepr::ColourTable { colours, unknown }
            }
        }
    }
}

/// What [`MaskDecoding::ColourTable`] does with a colour that its table does not list. In
/// TOML: `"error"` or `{ ignore = 255 }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownColour {
    /// The pixel gets this label (normally the dataset's ignore label).
    Ignore(u32),
    /// Reading fails with [`DataErrorKind::UnknownColour`], naming the colour and a pixel.
    Error,
}

/// Serde of colour tables as `[{ colour = "#RRGGBB", label = N }, ...]`.
mod colour_list {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::error::hex_colour;

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        colour: String,
        label: u32,
    }

    /// `#RRGGBB` (hex digits in any case) as `[r, g, b]`.
    pub(super) fn parse_hex(s: &str) -> Option<[u8; 3]> {
        let hex = s.strip_prefix('#')?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        Some([byte(0)?, byte(2)?, byte(4)?])
    }

    pub(super) fn serialize<S: Serializer>(
        colours: &[([u8; 3], u32)],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        colours
            .iter()
            .map(|&(c, label)| Entry {
                colour: hex_colour(c),
                label,
            })
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<([u8; 3], u32)>, D::Error> {
        Vec::<Entry>::deserialize(d)?
            .into_iter()
            .map(|e| match parse_hex(&e.colour) {
                Some(c) => Ok((c, e.label)),
                None => Err(D::Error::custom(format!(
                    "colour `{}` is not written #RRGGBB",
                    e.colour
                ))),
            })
            .collect()
    }
}

impl MaskDecoding {
    /// Checks the decoding on its own: a finite threshold; a colour table with at least one
    /// entry and no colour listed twice. Returns the message of the first problem.
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::mask::{MaskDecoding, UnknownColour};
    ///
    /// let twice = MaskDecoding::ColourTable {
    ///     colours: vec![([1, 2, 3], 0), ([1, 2, 3], 1)],
    ///     unknown: UnknownColour::Error,
    /// };
    /// assert!(twice.validate().unwrap_err().contains("#010203"));
    /// assert!(MaskDecoding::Threshold { threshold: f64::NAN, channel: 0 }.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), crate::SettingError> {
        self.check().map_err(crate::SettingError)
    }

    fn check(&self) -> Result<(), String> {
        match self {
            MaskDecoding::Labels => Ok(()),
            MaskDecoding::Threshold { threshold, .. } if !threshold.is_finite() => {
                Err(format!("mask.threshold is {threshold}; it must be finite"))
            }
            MaskDecoding::Threshold { .. } => Ok(()),
            MaskDecoding::ColourTable { colours, .. } => {
                if colours.is_empty() {
                    return Err("mask.colours is empty".into());
                }
                for (i, (c, _)) in colours.iter().enumerate() {
                    if colours[..i].iter().any(|(d, _)| d == c) {
                        return Err(format!(
                            "mask.colours lists {} twice",
                            crate::error::hex_colour(*c)
                        ));
                    }
                }
                Ok(())
            }
        }
    }

    /// The labels this decoding can produce, when it can tell: `[0, 1]` for a threshold, the
    /// table's labels (and the ignore label of [`UnknownColour::Ignore`]) for a colour table,
    /// `None` for [`MaskDecoding::Labels`] (whatever the file holds).
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::mask::MaskDecoding;
    ///
    /// assert_eq!(MaskDecoding::Threshold { threshold: 0.5, channel: 0 }.labels(), Some(vec![0, 1]));
    /// assert_eq!(MaskDecoding::Labels.labels(), None);
    /// ```
    pub fn labels(&self) -> Option<Vec<u32>> {
        match self {
            MaskDecoding::Labels => None,
            MaskDecoding::Threshold { .. } => Some(vec![0, 1]),
            MaskDecoding::ColourTable { colours, unknown } => {
                let mut labels: Vec<u32> = colours.iter().map(|&(_, l)| l).collect();
                if let UnknownColour::Ignore(l) = unknown {
                    labels.push(*l);
                }
                labels.sort_unstable();
                labels.dedup();
                Some(labels)
            }
        }
    }
}

/// Reads a mask file as a label map `[...S]` (no channel axis) with the file's spacing and
/// origin, decoding its samples as `decoding` says. Accepts the extensions of
/// [`read_image`](crate::image::read_image): `.png`, `.jpg`, `.jpeg`, `.tif`, `.tiff`, `.nii`,
/// `.nii.gz` (JPEG not with [`MaskDecoding::Labels`]).
///
/// The labels are not checked against a class table here; [`check_labels`] does that, and
/// [`DatasetDescription::read_mask`](crate::dataset::DatasetDescription::read_mask) calls it.
///
/// # Errors
///
/// The errors of [`read_label_map`](crate::read_label_map) and
/// [`read_image`](crate::image::read_image), and
/// [`UnknownColour`](DataErrorKind::UnknownColour) (an unlisted colour with
/// [`UnknownColour::Error`]: names the colour in hex and the first pixel having it);
/// [`UnsupportedType`](DataErrorKind::UnsupportedType) for a threshold channel the image does
/// not have, a colour-table mask whose samples are not 8-bit values, a JPEG with `Labels`.
///
/// # Examples
///
/// ```
/// use dicekit_data::image::{write_image_png, PngDepth};
/// use dicekit_data::mask::{read_mask, MaskDecoding};
/// use dicekit_data::Volume;
/// use ndarray::array;
///
/// let dir = std::env::temp_dir().join(format!("dicekit-doc-read-mask-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let gray = Volume::channels_first(array![[[3.0f32, 250.0], [128.0, 127.0]]].into_dyn());
/// write_image_png(&dir.join("polyp.png"), &gray, PngDepth::Eight)?;
///
/// let mask = read_mask(&dir.join("polyp.png"), &MaskDecoding::Threshold { threshold: 127.0, channel: 0 })?;
/// assert_eq!(mask.data, array![[0u32, 1], [1, 0]].into_dyn());
/// assert_eq!(mask.spacing, vec![1.0, 1.0]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), dicekit_data::DataError>(())
/// ```
pub fn read_mask(path: &Path, decoding: &MaskDecoding) -> Result<Volume<u32>, DataError> {
    let format = Format::of_path(path, IMAGE_EXTENSIONS).map_err(|k| k.at(path))?;
    let file = std::fs::File::open(path).map_err(|e| DataErrorKind::Io(e).at(path))?;
    decode_mask(std::io::BufReader::new(file), format, decoding, MAX_BYTES).map_err(|k| k.at(path))
}

/// Decodes a mask of the given format from a stream: the stored values as labels
/// ([`Purpose::LabelMap`]; JPEG is refused), or the image's values
/// ([`Purpose::Image`]) thresholded or looked up in the colour table.
pub(crate) fn decode_mask(
    r: impl BufRead + Seek,
    format: Format,
    decoding: &MaskDecoding,
    max_bytes: usize,
) -> Result<Volume<u32>, DataErrorKind> {
    let purpose = match decoding {
        MaskDecoding::Labels => Purpose::LabelMap,
        _ => Purpose::Image,
    };
    let raster = format::decode(r, format, purpose, max_bytes)?;
    match decoding {
        MaskDecoding::Labels => raster.into_labels(),
        MaskDecoding::Threshold { threshold, channel } => {
            threshold_channel(raster.into_values()?, *threshold, *channel)
        }
        MaskDecoding::ColourTable { colours, unknown } => {
            map_colours(raster.into_values()?, colours, *unknown)
        }
    }
}

/// `[C, ...S]` -> `[...S]` labels `(image[channel] > threshold) as u32`.
fn threshold_channel(
    image: Volume<f32>,
    threshold: f64,
    channel: usize,
) -> Result<Volume<u32>, DataErrorKind> {
    let c = image.channels();
    if channel >= c {
        return Err(DataErrorKind::UnsupportedType(format!(
            "threshold on channel {channel}, but the image has {c} channel{}",
            if c == 1 { "" } else { "s" }
        )));
    }
    let plane = image.data.index_axis(ndarray::Axis(0), channel);
    let data = plane.mapv(|v| u32::from(f64::from(v) > threshold));
    Ok(Volume {
        data,
        spacing: image.spacing,
        origin: image.origin,
        affine: image.affine,
    })
}

/// `[C, ...S]` colours -> `[...S]` labels through the table.
fn map_colours(
    image: Volume<f32>,
    colours: &[([u8; 3], u32)],
    unknown: UnknownColour,
) -> Result<Volume<u32>, DataErrorKind> {
    let c = image.channels();
    let spatial = image.spatial_shape().to_vec();
    let n: usize = spatial.iter().product();
    let data = image.data.as_standard_layout();
    let Some(samples) = data.as_slice() else {
        return Err(DataErrorKind::Format("image not contiguous".into()));
    };
    // Channel planes: gray (and gray+alpha) is (v, v, v); RGB(A) is (r, g, b).
    let plane = |k: usize| &samples[k * n..(k + 1) * n];
    let (r, g, b) = if c >= 3 {
        (plane(0), plane(1), plane(2))
    } else {
        (plane(0), plane(0), plane(0))
    };
    let byte = |v: f32, k: usize, flat: usize| -> Result<u8, DataErrorKind> {
        if (0.0..=255.0).contains(&v) && v.fract() == 0.0 {
            Ok(v as u8)
        } else {
            Err(DataErrorKind::UnsupportedType(format!(
                "channel {k} of pixel {:?} is {v}; colour tables need 8-bit samples (integers 0 to 255)",
                unravel_last_fastest(flat, &spatial)
            )))
        }
    };
    let mut labels = alloc_labels(n)?;
    let mut last: Option<([u8; 3], u32)> = None;
    for flat in 0..n {
        let colour = [
            byte(r[flat], 0, flat)?,
            byte(g[flat], if c >= 3 { 1 } else { 0 }, flat)?,
            byte(b[flat], if c >= 3 { 2 } else { 0 }, flat)?,
        ];
        let label = match last {
            Some((prev, label)) if prev == colour => label,
            _ => {
                let label = match colours.iter().find(|(c, _)| *c == colour) {
                    Some(&(_, label)) => label,
                    None => match unknown {
                        UnknownColour::Ignore(label) => label,
                        UnknownColour::Error => {
                            return Err(DataErrorKind::UnknownColour {
                                colour,
                                index: unravel_last_fastest(flat, &spatial),
                            });
                        }
                    },
                };
                last = Some((colour, label));
                label
            }
        };
        labels.push(label);
    }
    let data = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&spatial), labels)
        .map_err(|e| DataErrorKind::Format(format!("label count does not match ({e})")))?;
    Ok(Volume {
        data,
        spacing: image.spacing,
        origin: image.origin,
        affine: image.affine,
    })
}

/// Checks that every label of `mask` is a class (`0..classes`) or `ignore_label`; the error
/// ([`DataErrorKind::LabelOutOfRange`], with `path`) names the first offending voxel in memory
/// order and its label.
///
/// # Examples
///
/// ```
/// use std::path::Path;
/// use dicekit_data::mask::check_labels;
/// use dicekit_data::{DataErrorKind, Volume};
/// use ndarray::array;
///
/// let mask = Volume::new(array![[0u32, 1], [255, 2]].into_dyn());
/// check_labels(Path::new("m.png"), &mask, 3, Some(255))?;
/// let err = check_labels(Path::new("m.png"), &mask, 2, Some(255)).unwrap_err();
/// assert!(matches!(err.kind(), DataErrorKind::LabelOutOfRange { label: 2, .. }));
/// assert_eq!(
///     err.to_string(),
///     "m.png: voxel [1, 1] holds label 2, outside the class table (classes 0 to 1, ignore label 255)"
/// );
/// # Ok::<(), dicekit_data::DataError>(())
/// ```
pub fn check_labels(
    path: &Path,
    mask: &Volume<u32>,
    classes: u32,
    ignore_label: Option<u32>,
) -> Result<(), DataError> {
    let bad = mask
        .data
        .iter()
        .position(|&l| l >= classes && Some(l) != ignore_label);
    match bad {
        None => Ok(()),
        Some(flat) => {
            let index = unravel_last_fastest(flat, mask.data.shape());
            let label = mask.data[ndarray::IxDyn(&index)];
            Err(DataErrorKind::LabelOutOfRange {
                label,
                index,
                classes,
                ignore_label,
            }
            .at(path))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn hex_colours_parse_in_any_case_and_need_the_hash() {
        assert_eq!(colour_list::parse_hex("#3c1098"), Some([0x3C, 0x10, 0x98]));
        assert_eq!(colour_list::parse_hex("#FEDD3A"), Some([0xFE, 0xDD, 0x3A]));
        for bad in [
            "3C1098", "#3C109", "#3C10988", "#GG0000", "", "#", "#+1+2+3",
        ] {
            assert_eq!(colour_list::parse_hex(bad), None, "{bad}");
        }
    }

    #[test]
    fn decodings_round_trip_through_toml() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Wrap {
            mask: MaskDecoding,
        }
        for mask in [
            MaskDecoding::Labels,
            MaskDecoding::Threshold {
                threshold: 127.0,
                channel: 1,
            },
            MaskDecoding::ColourTable {
                colours: vec![([0, 0, 0], 255), ([0x9B, 0x9B, 0x9B], 5)],
                unknown: UnknownColour::Ignore(255),
            },
            MaskDecoding::ColourTable {
                colours: vec![([1, 2, 3], 0)],
                unknown: UnknownColour::Error,
            },
        ] {
            let w = Wrap { mask };
            let text = toml::to_string(&w).unwrap();
            assert_eq!(toml::from_str::<Wrap>(&text).unwrap(), w, "{text}");
        }
    }

    #[test]
    fn unknown_keys_and_kinds_are_errors() {
        for bad in [
            "kind = 'labels'\nthreshold = 1.0",
            "kind = 'threshold'\nthreshold = 1.0\nchanel = 0",
            "kind = 'thresholds'\nthreshold = 1.0",
            "kind = 'colour_table'\nunknown = 'error'\ncolours = [{ colour = '#000000', label = 0, name = 'x' }]",
            "kind = 'colour_table'\nunknown = 'ignore'\ncolours = []",
            "kind = 'colour_table'\nunknown = 'error'\ncolours = [{ colour = 'black', label = 0 }]",
            "threshold = 1.0",
        ] {
            assert!(toml::from_str::<MaskDecoding>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn threshold_is_strictly_greater_and_nan_is_background() {
        let img = Volume::channels_first(array![[[0.0f32, 0.5, 0.6, f32::NAN]]].into_dyn());
        let m = threshold_channel(img.clone(), 0.5, 0).unwrap();
        assert_eq!(m.data, array![[0u32, 0, 1, 0]].into_dyn());
        assert_eq!(m.spacing, vec![1.0, 1.0]);
        assert!(matches!(
            threshold_channel(img, 0.5, 1),
            Err(DataErrorKind::UnsupportedType(_))
        ));
    }

    #[test]
    fn colour_table_maps_gray_as_equal_channels_and_rejects_16_bit_values() {
        let gray = Volume::channels_first(array![[[155.0f32, 0.0]]].into_dyn());
        let table = [([155, 155, 155], 5), ([0, 0, 0], 255)];
        let m = map_colours(gray, &table, UnknownColour::Error).unwrap();
        assert_eq!(m.data, array![[5u32, 255]].into_dyn());
        let wide = Volume::channels_first(array![[[300.0f32]]].into_dyn());
        assert!(matches!(
            map_colours(wide, &table, UnknownColour::Error),
            Err(DataErrorKind::UnsupportedType(_))
        ));
    }

    #[test]
    fn unknown_colour_names_colour_and_pixel() {
        // [3, 2, 2] RGB; pixel [1, 0] is #010203.
        let mut rgb = ndarray::Array3::<f32>::zeros((3, 2, 2));
        rgb[[0, 1, 0]] = 1.0;
        rgb[[1, 1, 0]] = 2.0;
        rgb[[2, 1, 0]] = 3.0;
        let img = Volume::channels_first(rgb.into_dyn());
        let err = map_colours(img.clone(), &[([0, 0, 0], 0)], UnknownColour::Error).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pixel [1, 0] has colour #010203, which is not in the colour table"
        );
        let m = map_colours(img, &[([0, 0, 0], 0)], UnknownColour::Ignore(9)).unwrap();
        assert_eq!(m.data, array![[0u32, 0], [9, 0]].into_dyn());
    }
}
