//! Seeded synthetic scenes for the imbalance experiments, each with its foreground fraction.
//!
//! | scene | image | mask | imbalance |
//! |---|---|---|---|
//! | [`Scene::Fundus`] | `[3, H, W]` RGB in [0, 1] | microaneurysms = 1 | about 0.05 % foreground among vessels and bright exudates |
//! | [`Scene::CtPhantom`] | `[1, X, Y, Z]` Hounsfield units, spacing 0.8 x 0.8 x 2.5 mm | liver 1, spleen 2, kidneys 3 and 4, tumour 5 | tumours are the rare class |
//! | [`Scene::Wetlands`] | `[4, H, W]` blue, green, red, near-infrared reflectance | wetland = 1 (cloud-free truth); `extra` = cloud mask | wetlands a few %, a quarter of the scene under cloud |
//! | [`Scene::LesionTexture`] | `[1, H, W]` | lesion = 1; `label` = class of the texture inside the lesion | the label depends only on the lesion's texture; distractor blobs carry textures too; with a foreground fraction, a lesion of that share among 5-7 look-alike distractors |
//!
//! The same scene, size, seed and index always give the same arrays.
mod ct_phantom;
mod fundus;
mod lesion_texture;
mod noise;
mod wetlands;
mod write;

pub use write::{SynthError, WrittenDataset, WrittenSample, write_dataset};

use ndarray::ArrayD;

use crate::{Rng, Volume};

/// A synthetic scene kind; in configs by its [`name`](Scene::name) (`scene = "ct-phantom"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scene {
    /// Fundus photograph with microaneurysms.
    Fundus,
    /// 3D CT-like phantom with organs and small tumours.
    CtPhantom,
    /// Multi-band satellite scene with wetlands and clouds.
    Wetlands,
    /// Lesion whose texture determines the image label.
    LesionTexture,
}

impl Scene {
    /// Every scene.
    pub const ALL: [Scene; 4] = [
        Scene::Fundus,
        Scene::CtPhantom,
        Scene::Wetlands,
        Scene::LesionTexture,
    ];

    /// Command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Scene::Fundus => "fundus",
            Scene::CtPhantom => "ct-phantom",
            Scene::Wetlands => "wetlands",
            Scene::LesionTexture => "lesion-texture",
        }
    }

    /// What the scene shows (the help of `dicekit synth`).
    pub fn description(self) -> &'static str {
        match self {
            Scene::Fundus => "fundus photograph with microaneurysms (PNG)",
            Scene::CtPhantom => "3D CT-like phantom with organs and small tumours (NIfTI)",
            Scene::Wetlands => "multi-band satellite scene with wetlands and clouds (TIFF)",
            Scene::LesionTexture => "lesion whose texture determines the image label (PNG)",
        }
    }

    /// Parses [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Default spatial size.
    pub fn default_size(self) -> Vec<usize> {
        match self {
            Scene::Fundus => vec![512, 512],
            Scene::CtPhantom => vec![96, 96, 48],
            Scene::Wetlands => vec![256, 256],
            Scene::LesionTexture => vec![96, 96],
        }
    }

    /// Class names, background first.
    pub fn class_names(self) -> &'static [&'static str] {
        match self {
            Scene::Fundus => &["background", "microaneurysm"],
            Scene::CtPhantom => &[
                "background",
                "liver",
                "spleen",
                "left kidney",
                "right kidney",
                "tumour",
            ],
            Scene::Wetlands => &["background", "wetland"],
            Scene::LesionTexture => &["background", "lesion"],
        }
    }

    /// Generates image `index` of a seeded set. `size` is the spatial size (2 values, or 3 for
    /// the CT phantom); `None` takes [`default_size`](Self::default_size).
    ///
    /// # Errors
    /// When `size` has the wrong number of axes or an axis shorter than the scene allows.
    pub fn generate(
        self,
        size: Option<&[usize]>,
        seed: u64,
        index: u64,
    ) -> Result<Sample, crate::SettingError> {
        self.generate_with(size, seed, index, None)
    }

    /// [`generate`](Self::generate) with another target foreground fraction: the microaneurysm
    /// area of [`Scene::Fundus`] (default 0.0005; more dots of the same 2-6 px sizes), for the
    /// imbalance experiment; the lesion's share of the image in [`Scene::LesionTexture`], which
    /// also turns on its harder regime (5-7 distractors of the lesion's size and texture
    /// statistics, a weaker brightness cue), for the attention experiment. Other scenes have no
    /// such setting.
    ///
    /// # Errors
    /// As [`generate`](Self::generate); a fraction outside (0, 0.2], or one for another scene.
    pub fn generate_with(
        self,
        size: Option<&[usize]>,
        seed: u64,
        index: u64,
        foreground: Option<f64>,
    ) -> Result<Sample, crate::SettingError> {
        self.generate_inner(size, seed, index, foreground)
            .map_err(crate::SettingError)
    }

    fn generate_inner(
        self,
        size: Option<&[usize]>,
        seed: u64,
        index: u64,
        foreground: Option<f64>,
    ) -> Result<Sample, String> {
        if let Some(f) = foreground
            && !(matches!(self, Scene::Fundus | Scene::LesionTexture) && f > 0.0 && f <= 0.2)
        {
            return Err(format!(
                "scene `{}`: a foreground fraction ({f}) can be set for `fundus` and \
                 `lesion-texture` only, in (0, 0.2]",
                self.name()
            ));
        }
        let size = size
            .map(<[usize]>::to_vec)
            .unwrap_or_else(|| self.default_size());
        let want = self.default_size().len();
        let min = if self == Scene::CtPhantom { 24 } else { 32 };
        if size.len() != want || size.iter().any(|&s| s < min) {
            return Err(format!(
                "scene `{}` needs a size of {want} axes, each at least {min} voxels; got {size:?}",
                self.name()
            ));
        }
        // A bound before anything is allocated: 2^28 voxels (1 GiB of f32 per channel).
        const MAX_VOXELS: u128 = 1 << 28;
        let voxels: u128 = size.iter().map(|&s| s as u128).product();
        if voxels > MAX_VOXELS {
            return Err(format!(
                "scene `{}`: size {size:?} is {voxels} voxels, more than the limit of {MAX_VOXELS}",
                self.name()
            ));
        }
        let mut rng = Rng::fork(seed, index);
        Ok(match self {
            Scene::Fundus => fundus::generate(size[0], size[1], foreground, &mut rng),
            Scene::CtPhantom => ct_phantom::generate([size[0], size[1], size[2]], &mut rng),
            Scene::Wetlands => wetlands::generate(size[0], size[1], &mut rng),
            Scene::LesionTexture => {
                lesion_texture::generate(size[0], size[1], foreground, &mut rng)
            }
        })
    }
}

/// One generated image.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// `[C, ...S]` intensities.
    pub image: Volume<f32>,
    /// `[...S]` labels.
    pub mask: Volume<u32>,
    /// A second mask where the scene has one (the cloud mask of `Wetlands`: 1 = cloud).
    pub extra: Option<Volume<u32>>,
    /// The image-level class (`LesionTexture`: the texture inside the lesion).
    pub label: Option<u32>,
}

impl Sample {
    /// Fraction of voxels whose label is not 0.
    pub fn foreground_fraction(&self) -> f64 {
        let fg = self.mask.data.iter().filter(|&&l| l != 0).count();
        fg as f64 / self.mask.data.len() as f64
    }

    /// Fraction of voxels carrying `label`.
    pub fn class_fraction(&self, label: u32) -> f64 {
        self.mask.data.iter().filter(|&&l| l == label).count() as f64 / self.mask.data.len() as f64
    }
}

/// Builds a sample from channel-first data and a label array.
fn sample(image: ArrayD<f32>, mask: ArrayD<u32>, spacing: Vec<f64>) -> Sample {
    let nd = mask.ndim();
    Sample {
        image: Volume {
            data: image,
            spacing: spacing.clone(),
            origin: vec![0.0; nd],
            affine: None,
        },
        mask: Volume {
            data: mask,
            spacing,
            origin: vec![0.0; nd],
            affine: None,
        },
        extra: None,
        label: None,
    }
}
