//! A synthetic dataset on disk: what `dicekit synth` writes.
use std::path::Path;

use crate::image::{PngDepth, TiffSamples, write_image_nifti, write_image_png, write_image_tiff};
use crate::synth::{Sample, Scene};
use crate::{DataError, DataErrorKind, Volume, write_label_map_nifti, write_label_map_png};

/// A dataset that could not be generated or written.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The scene refused the size or foreground fraction.
    #[error(transparent)]
    Scene(#[from] crate::SettingError),
    /// A file or folder could not be written.
    #[error(transparent)]
    Data(#[from] DataError),
}

/// One sample written by [`write_dataset`].
#[derive(Debug, Clone, PartialEq)]
pub struct WrittenSample {
    /// Case name, `<scene>_<index:03>`.
    pub name: String,
    /// Share of the voxels with a foreground label.
    pub foreground: f64,
    /// The image-level class ([`Scene::LesionTexture`]), also written to `labels.csv`.
    pub image_label: Option<u32>,
    /// Share of the pixels under a cloud ([`Scene::Wetlands`]).
    pub cloud: Option<f64>,
}

/// What [`write_dataset`] wrote, over all samples.
#[derive(Debug, Clone, PartialEq)]
pub struct WrittenDataset {
    /// Samples written.
    pub count: usize,
    /// Mean foreground share.
    pub mean_foreground: f64,
    /// Mean share of each label (index = label; label 0 is not counted and stays 0).
    pub class_fractions: Vec<f64>,
}

/// Writes `count` samples of `scene` (indices `0..count` of `seed`) under `out`: `images/` and
/// `masks/` in the scene's formats (NIfTI for the CT phantom, an 8-bit RGB PNG for fundus, a
/// float TIFF otherwise; masks PNG or NIfTI), `clouds/` for wetlands and `labels.csv` for the
/// lesion-texture scene. `on_sample` hears of each sample as it is written.
///
/// # Errors
/// The scene refuses `size` or `foreground`, or a file cannot be written.
pub fn write_dataset(
    scene: Scene,
    out: &Path,
    count: usize,
    size: Option<&[usize]>,
    seed: u64,
    foreground: Option<f64>,
    mut on_sample: impl FnMut(&WrittenSample),
) -> Result<WrittenDataset, SynthError> {
    let mkdir = |dir: &Path| {
        std::fs::create_dir_all(dir).map_err(|e| DataError::new(dir, DataErrorKind::Io(e)))
    };
    for sub in ["images", "masks"] {
        mkdir(&out.join(sub))?;
    }
    if scene == Scene::Wetlands {
        mkdir(&out.join("clouds"))?;
    }
    let mut labels = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| {
        DataError::new(
            out.join("labels.csv"),
            DataErrorKind::Io(std::io::Error::from(e)),
        )
    };
    labels.write_record(["case", "label"]).map_err(csv_error)?;
    let mut total = 0.0;
    let mut class_totals = vec![0.0; scene.class_names().len()];
    for i in 0..count {
        let s = scene.generate_with(size, seed, i as u64, foreground)?;
        let name = format!("{}_{i:03}", scene.name());
        write_sample(scene, &s, out, &name)?;
        let f = s.foreground_fraction();
        total += f;
        for (l, t) in class_totals.iter_mut().enumerate().skip(1) {
            *t += s.class_fraction(l as u32);
        }
        if let (Scene::LesionTexture, Some(l)) = (scene, s.label) {
            labels
                .write_record([name.as_str(), &l.to_string()])
                .map_err(csv_error)?;
        }
        let cloud = match (scene, &s.extra) {
            (Scene::Wetlands, Some(c)) => {
                Some(c.data.iter().filter(|&&v| v == 1).count() as f64 / c.data.len() as f64)
            }
            _ => None,
        };
        on_sample(&WrittenSample {
            name,
            foreground: f,
            image_label: if scene == Scene::LesionTexture {
                s.label
            } else {
                None
            },
            cloud,
        });
    }
    if scene == Scene::LesionTexture {
        let path = out.join("labels.csv");
        let bytes = labels
            .into_inner()
            .map_err(|e| csv_error(e.into_error().into()))?;
        std::fs::write(&path, bytes).map_err(|e| DataError::new(&path, DataErrorKind::Io(e)))?;
    }
    let n = count.max(1) as f64;
    Ok(WrittenDataset {
        count,
        mean_foreground: total / n,
        class_fractions: class_totals.iter().map(|t| t / n).collect(),
    })
}

fn write_sample(scene: Scene, s: &Sample, out: &Path, name: &str) -> Result<(), DataError> {
    match scene {
        Scene::CtPhantom => {
            write_image_nifti(&out.join("images").join(format!("{name}.nii.gz")), &s.image)?;
            write_label_map_nifti(&out.join("masks").join(format!("{name}.nii.gz")), &s.mask)?;
        }
        Scene::Fundus => {
            // An 8-bit RGB photograph, as fundus images come.
            let scaled = Volume {
                data: s.image.data.mapv(|v| v * 255.0),
                spacing: s.image.spacing.clone(),
                origin: s.image.origin.clone(),
                affine: None,
            };
            write_image_png(
                &out.join("images").join(format!("{name}.png")),
                &scaled,
                PngDepth::Eight,
            )?;
            write_label_map_png(&out.join("masks").join(format!("{name}.png")), &s.mask)?;
        }
        _ => {
            write_image_tiff(
                &out.join("images").join(format!("{name}.tif")),
                &s.image,
                TiffSamples::F32,
            )?;
            write_label_map_png(&out.join("masks").join(format!("{name}.png")), &s.mask)?;
        }
    }
    if let Some(c) = &s.extra {
        write_label_map_png(&out.join("clouds").join(format!("{name}.png")), c)?;
    }
    Ok(())
}
