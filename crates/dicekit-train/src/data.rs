//! Cases in memory: normalised images `[C, ...S]` and label maps `[...S]`.
use dicekit_data::dataset::{DatasetDescription, Split};
use ndarray::{ArrayD, Axis};

use crate::{DataSource, InputError, Normalization, TrainConfig};

/// One image and its labels.
#[derive(Debug, Clone)]
pub struct Case {
    /// Name (file stem or scene index).
    pub name: String,
    /// Normalised intensities `[C, ...S]`.
    pub image: ArrayD<f32>,
    /// Labels `[...S]`.
    pub mask: ArrayD<u32>,
    /// Voxel spacing in mm.
    pub spacing: Vec<f64>,
    /// Image-level class, where the data has one (the lesion-texture scene).
    pub label: Option<u32>,
}

/// Training and validation cases.
#[derive(Debug, Clone)]
pub struct CaseSet {
    /// Training cases.
    pub train: Vec<Case>,
    /// Validation cases.
    pub val: Vec<Case>,
}

/// Loads (or generates) every case named by the config, normalises it, and checks channels,
/// rank and labels against the model.
///
/// # Errors
/// [`InputError::Data`] naming the file or case.
pub fn load_cases(cfg: &TrainConfig) -> Result<CaseSet, InputError> {
    load_cases_inner(cfg).map_err(InputError::Data)
}

fn load_cases_inner(cfg: &TrainConfig) -> Result<CaseSet, String> {
    check_class_count(cfg)?;
    let mut set = CaseSet {
        train: read_split(cfg, Split::Train)?,
        val: read_split(cfg, Split::Val)?,
    };
    if let Some(size) = &cfg.data.resize {
        for case in set.train.iter_mut() {
            case.image = dicekit_data::resample::resize_image(&case.image, size)
                .map_err(|e| format!("{}: {e}", case.name))?;
            case.mask = dicekit_data::resample::resize_labels(&case.mask, size)
                .map_err(|e| format!("{}: {e}", case.name))?;
        }
    }
    for case in set.train.iter_mut().chain(set.val.iter_mut()) {
        normalize(&mut case.image, cfg.data.normalization);
    }
    Ok(set)
}

/// The validation cases as read (not normalised; [`crate::Trained::predict`] normalises), checked
/// against the model like [`load_cases`].
///
/// # Errors
/// [`InputError::Data`] naming the file or case.
pub fn load_validation_cases(cfg: &TrainConfig) -> Result<Vec<Case>, InputError> {
    check_class_count(cfg)
        .and_then(|()| read_split(cfg, Split::Val))
        .map_err(InputError::Data)
}

/// `[model] num_classes` against the classes the dataset description (or synthetic scene)
/// names, background included: a softmax network has one channel per class, a sigmoid network
/// one per foreground class. A mismatch would train a phantom class (or drop a real one), and a
/// phantom class would score on nothing.
fn check_class_count(cfg: &TrainConfig) -> Result<(), String> {
    let (named, source): (Vec<String>, String) = match &cfg.data.source {
        DataSource::Dataset { description, .. } => (
            DatasetDescription::read(&cfg.base_dir.join(description))
                .map(|d| d.classes)
                .map_err(|e| e.to_string())?,
            description.display().to_string(),
        ),
        DataSource::Synthetic { scene, .. } => (
            scene.class_names().iter().map(|n| n.to_string()).collect(),
            format!("scene {}", scene.name()),
        ),
    };
    if named.is_empty() {
        return Ok(());
    }
    let k = cfg.model.num_classes;
    let softmax = cfg.loss.activation() == dicekit_losses::Activation::Softmax;
    let want = if softmax {
        named.len()
    } else {
        named.len() - 1
    };
    if k != want {
        return Err(format!(
            "[model] num_classes = {k}, but {source} names {} classes ({}): use num_classes = {} with a softmax loss, or {} with a sigmoid loss (one channel per foreground class)",
            named.len(),
            named.join(", "),
            named.len(),
            named.len() - 1
        ));
    }
    Ok(())
}

/// The class names: from the dataset description, else `class 0`, `class 1`, ...
pub fn class_names(cfg: &TrainConfig) -> Vec<String> {
    let k = cfg.model.num_classes;
    let named = match &cfg.data.source {
        DataSource::Dataset { description, .. } => {
            DatasetDescription::read(&cfg.base_dir.join(description))
                .map(|d| d.classes)
                .unwrap_or_default()
        }
        DataSource::Synthetic { scene, .. } => {
            scene.class_names().iter().map(|n| n.to_string()).collect()
        }
    };
    (0..k.max(2))
        .map(|i| {
            named
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("class {i}"))
        })
        .collect()
}

/// The cases of one split, read or generated and checked (not normalised).
fn read_split(cfg: &TrainConfig, split: Split) -> Result<Vec<Case>, String> {
    let cases = match &cfg.data.source {
        DataSource::Synthetic {
            scene,
            train,
            val,
            size,
            seed,
            foreground,
            clouds,
        } => {
            let scene = *scene;
            let range = match split {
                Split::Val => 1_000_000..1_000_000 + *val as u64,
                _ => 0..*train as u64,
            };
            range
                .map(|i| {
                    let s = scene.generate_with(size.as_deref(), *seed, i, *foreground)?;
                    let mut mask = s.mask.data;
                    // Training labels under clouds; validation keeps the cloud-free truth.
                    if let (Some(c), Some(cloud), Split::Train) = (clouds, &s.extra, split) {
                        let under = match c {
                            crate::Clouds::Truth => None,
                            crate::Clouds::Ignore => cfg.data.ignore_label,
                            crate::Clouds::Background => Some(0),
                        };
                        if let Some(v) = under {
                            ndarray::Zip::from(&mut mask)
                                .and(&cloud.data)
                                .for_each(|m, &c| {
                                    if c != 0 {
                                        *m = v;
                                    }
                                });
                        }
                    }
                    Ok(Case {
                        name: format!("{}_{i:05}", scene.name()),
                        spacing: s.mask.spacing.clone(),
                        label: s.label,
                        image: s.image.data,
                        mask,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?
        }
        DataSource::Dataset {
            description,
            root,
            limit_train,
            limit_val,
        } => {
            let path = cfg.base_dir.join(description);
            let desc = DatasetDescription::read(&path).map_err(|e| e.to_string())?;
            let root = root.as_ref().map(|r| cfg.base_dir.join(r));
            let ds = desc.load(root.as_deref()).map_err(|e| e.to_string())?;
            let limit = if split == Split::Val {
                *limit_val
            } else {
                *limit_train
            };
            let items: Vec<_> = ds.split(split).collect();
            let n = if limit == 0 {
                items.len()
            } else {
                limit.min(items.len())
            };
            items[..n]
                .iter()
                .map(|item| {
                    let (image, mask) = desc.read_pair(item).map_err(|e| e.to_string())?;
                    Ok(Case {
                        name: item.id.clone(),
                        spacing: mask.spacing.clone(),
                        label: None,
                        image: image.data,
                        mask: mask.data,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?
        }
    };
    if cases.is_empty() {
        return Err(format!(
            "[data] needs training and validation cases; found no {} cases",
            if split == Split::Val {
                "validation"
            } else {
                "training"
            }
        ));
    }
    for case in &cases {
        check(case, cfg)?;
    }
    Ok(cases)
}

fn check(case: &Case, cfg: &TrainConfig) -> Result<(), String> {
    let (c, spatial) = (case.image.shape()[0], &case.image.shape()[1..]);
    if c != cfg.model.in_channels {
        return Err(format!(
            "{}: {c} image channels but [model] in_channels = {}",
            case.name, cfg.model.in_channels
        ));
    }
    if spatial != case.mask.shape() {
        return Err(format!(
            "{}: image {:?} and mask {:?} differ in size",
            case.name,
            spatial,
            case.mask.shape()
        ));
    }
    if spatial.len() != cfg.data.patch.len() {
        return Err(format!(
            "{}: {} spatial axes but the patch has {}",
            case.name,
            spatial.len(),
            cfg.data.patch.len()
        ));
    }
    let classes = cfg.model.num_classes.max(2) as u32;
    if let Some(bad) = case
        .mask
        .iter()
        .find(|&&l| l >= classes && Some(l) != cfg.data.ignore_label)
    {
        return Err(format!(
            "{}: label {bad} is not a class (num_classes = {}) nor the ignore label",
            case.name, cfg.model.num_classes
        ));
    }
    if let crate::Task::Attention { image_classes, .. } = cfg.task {
        match case.label {
            Some(l) if (l as usize) < image_classes => {}
            Some(l) => {
                return Err(format!(
                    "{}: image label {l} is not below [task] image_classes = {image_classes}",
                    case.name
                ));
            }
            None => {
                return Err(format!(
                    "{}: no image label for the attention task",
                    case.name
                ));
            }
        }
    }
    Ok(())
}

/// Normalises each channel in place.
pub(crate) fn normalize(image: &mut ArrayD<f32>, how: Normalization) {
    for mut ch in image.axis_iter_mut(Axis(0)) {
        match how {
            Normalization::None => {}
            Normalization::ZScore => {
                let n = ch.len() as f64;
                let mean = ch.iter().map(|&v| v as f64).sum::<f64>() / n;
                let var = ch.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
                let std = var.sqrt().max(1e-8);
                ch.mapv_inplace(|v| ((v as f64 - mean) / std) as f32);
            }
            Normalization::Window { low, high } => {
                let (mid, half) = ((high + low) / 2.0, ((high - low) / 2.0).max(1e-6));
                ch.mapv_inplace(|v| (v.clamp(low, high) - mid) / half);
            }
        }
    }
}
