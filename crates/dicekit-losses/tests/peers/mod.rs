//! Translates a peer library's constructor call (as written in the reference file) into a
//! dicekit loss. Each peer's defaults are written here, once, with the peer version they come from.
mod pyval;

use std::collections::BTreeMap;

use dicekit_losses::*;
use pyval::{Py, parse_call};
use serde_json::Value;

/// How the reference target is handed to dicekit.
pub enum TargetMode {
    /// Class labels, reshaped to `[B, 1, ...S]`.
    Indices,
    /// Class labels one-hot encoded by the caller before the loss sees them
    /// (`loss(logits, one_hot(target), ..)`): `[B, C, ...S]` 0/1 values.
    OneHot,
    /// `[B, C, ...S]` values.
    Dense,
    /// `[B, C + 1, ...S]`: the last channel flags ignored voxels; becomes `Dense` with `ignore`.
    DenseWithIgnoreChannel { ignore: i64 },
}

/// A dicekit loss plus the way to feed it.
pub struct Plan {
    pub loss: AnyLossConfig,
    pub target: TargetMode,
    /// Name of the `extra_inputs` entry to pass as weight map.
    pub weight_map: Option<String>,
}

type Kw = BTreeMap<String, Py>;

/// Reads the keyword arguments with defaults.
struct Args<'a> {
    kw: &'a Kw,
    /// Keywords given as tensors of shape `[C, 1, ...]`: one value per channel.
    per_channel: Vec<String>,
}

impl Args<'_> {
    fn f(&self, k: &str, default: f64) -> f64 {
        self.kw.get(k).and_then(Py::as_f64).unwrap_or(default)
    }
    fn b(&self, k: &str, default: bool) -> bool {
        self.kw.get(k).and_then(Py::as_bool).unwrap_or(default)
    }
    fn s(&self, k: &str) -> Option<String> {
        self.kw.get(k).and_then(Py::as_str).map(str::to_string)
    }
    fn list(&self, k: &str) -> Option<Vec<f64>> {
        self.kw.get(k).and_then(Py::as_list_f64)
    }
    fn int(&self, k: &str) -> Option<i64> {
        self.kw.get(k).and_then(Py::as_f64).map(|v| v as i64)
    }
    fn dict(&self, k: &str) -> Kw {
        match self.kw.get(k) {
            Some(Py::Dict(d)) => d.clone(),
            _ => Kw::new(),
        }
    }
    fn ident(&self, k: &str) -> Option<String> {
        match self.kw.get(k) {
            Some(Py::Ident(s)) => Some(s.clone()),
            _ => None,
        }
    }
    /// Fails on any keyword not in `known`, so that an unmodelled option is never silently dropped.
    fn only(&self, known: &[&str]) -> Result<(), String> {
        match self.kw.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(format!("option `{k}` is not translated")),
            None => Ok(()),
        }
    }
}

fn reduction(a: &Args, default: &str) -> Result<Reduction, String> {
    match a.s("reduction").as_deref().unwrap_or(default) {
        "mean" => Ok(Reduction::Mean),
        "sum" => Ok(Reduction::Sum),
        other => Err(format!("reduction '{other}' has no scalar to compare")),
    }
}

/// Translates one case.
pub fn translate(case: &Value) -> Result<Plan, String> {
    let peer = case["peer"].as_str().unwrap_or_default();
    let call = case["call"].as_str().ok_or("no `call`")?;
    let forward = case["forward"].as_str().unwrap_or("loss(logits, target)");
    let encoding = case["target_encoding"].as_str().unwrap_or_default();
    let (qualified, mut kw) = parse_call(call)?;
    let class = qualified.rsplit('.').next().unwrap_or_default().to_string();
    let target = match encoding {
        "class_index" if forward.contains("one_hot(target") => TargetMode::OneHot,
        "class_index" => TargetMode::Indices,
        "multi_hot" => TargetMode::Dense,
        "multi_hot_plus_ignore_channel" => TargetMode::DenseWithIgnoreChannel { ignore: -1 },
        other => return Err(format!("target encoding '{other}'")),
    };
    // A tensor-valued constructor argument names an extra input: the full-size `weight` of
    // torch `BCEWithLogitsLoss(weight=w)` is the element-wise weight map; a smaller one (a
    // per-channel `pos_weight` of shape [C, 1, 1]) is read as its list of values.
    let dims: Vec<u64> = case["input_shape"]
        .as_array()
        .map(|v| v.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let map_size = |n: u64| {
        n == dims.iter().product::<u64>()
            || n * dims.get(1).copied().unwrap_or(1) == dims.iter().product::<u64>()
    };
    let mut ctor_map = None;
    let mut per_channel = Vec::new();
    for (k, v) in kw.iter_mut() {
        let Py::Ident(name) = v else { continue };
        let extra = &case["extra_inputs"][name.as_str()];
        let Some(values) = extra["values"].as_array() else {
            continue;
        };
        let shape: Vec<u64> = extra["shape"]
            .as_array()
            .map(|v| v.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        if k == "weight" && values.len() > 1 && map_size(values.len() as u64) {
            ctor_map = Some(name.clone());
        } else {
            if shape.len() > 1 && shape[1..].iter().all(|&d| d == 1) {
                per_channel.push(k.clone());
            }
            *v = Py::List(
                values
                    .iter()
                    .filter_map(Value::as_f64)
                    .map(Py::Num)
                    .collect(),
            );
        }
    }
    let a = Args {
        kw: &kw,
        per_channel,
    };
    let weight_map = forward_extra(forward).or(ctor_map.clone());
    let channels = case["input_shape"][1].as_u64().ok_or("no input_shape")? as usize;
    let loss = match peer {
        "monai" => monai(&class, &a, weight_map.is_some(), channels)?,
        "smp" => smp(&class, &a, channels)?,
        "kornia" => kornia(&class, &a)?,
        "nnunet" => nnunet(&class, &a, &target)?,
        "torch" => torch(&class, &a, channels, ctor_map.is_some())?,
        other => return Err(format!("unknown peer '{other}'")),
    };
    Ok(Plan {
        loss,
        target,
        weight_map,
    })
}

/// The name of the extra input passed as `mask=` or `loss_mask=` in the forward call.
fn forward_extra(forward: &str) -> Option<String> {
    ["loss_mask=", "mask="].iter().find_map(|kw| {
        let rest = &forward[forward.find(kw)? + kw.len()..];
        Some(rest.split([',', ')']).next()?.trim().to_string())
    })
}

// ---------------------------------------------------------------- MONAI 1.6
const MONAI_COMMON: &[&str] = &[
    "include_background",
    "to_onehot_y",
    "sigmoid",
    "softmax",
    "reduction",
    "batch",
    "smooth_nr",
    "smooth_dr",
    "weight",
    "ignore_index",
    "soft_label",
];

/// MONAI skips `softmax=True` on a single channel (with a warning) and uses the raw values.
fn monai_activation(a: &Args, channels: usize) -> Activation {
    if a.b("sigmoid", false) {
        Activation::Sigmoid
    } else if a.b("softmax", false) && channels > 1 {
        Activation::Softmax
    } else {
        Activation::Identity
    }
}

fn monai_classes(a: &Args) -> ClassSelection {
    if a.b("include_background", true) {
        ClassSelection::All
    } else {
        ClassSelection::ExcludeBackground
    }
}

fn monai_pooling(a: &Args) -> Pooling {
    if a.b("batch", false) {
        Pooling::Batch
    } else {
        Pooling::PerSample
    }
}

/// MONAI's per-class lists may cover the scored classes only (C - 1 values without background);
/// dicekit takes one value per channel, so the unused background then gets a placeholder. A
/// scalar applies to every channel.
fn monai_per_class(a: &Args, key: &str, channels: usize) -> Option<Vec<f64>> {
    if let Some(Py::Num(v)) = a.kw.get(key) {
        return Some(vec![*v; channels]);
    }
    let w = a.list(key)?;
    Some(
        if !a.b("include_background", true) && w.len() + 1 == channels {
            [vec![1.0], w].concat()
        } else {
            w
        },
    )
}

/// MONAI `DiceLoss` (and `MaskedDiceLoss`).
fn monai_dice(a: &Args, masked: bool, channels: usize) -> Result<OverlapLossConfig, String> {
    let jaccard = a.b("jaccard", false);
    // MONAI's Jaccard is 1 - (2I + s_n) / (2(P + G - I) + s_d): dicekit's Jaccard with halved smoothing.
    let half = if jaccard { 0.5 } else { 1.0 };
    let classes = monai_classes(a);
    // DiceLoss applies class weights only when more than one channel is scored.
    let weights = monai_per_class(a, "weight", channels).filter(|_| channels > 1);
    Ok(OverlapLossConfig::new()
        .with_index(if jaccard {
            OverlapIndex::Jaccard
        } else {
            OverlapIndex::Dice
        })
        .with_activation(monai_activation(a, channels))
        .with_classes(classes)
        .with_pooling(monai_pooling(a))
        .with_power(if a.b("squared_pred", false) {
            Power::Squared
        } else {
            Power::Linear
        })
        .with_intersection(if a.b("soft_label", false) {
            Intersection::Norm
        } else {
            Intersection::Product
        })
        .with_smooth_nr(a.f("smooth_nr", 1e-5) * half)
        .with_smooth_dr(a.f("smooth_dr", 1e-5) * half)
        .with_class_weights(weights)
        .with_ignore_index(a.int("ignore_index"))
        .with_dense_ignore(DenseIgnore::Monai)
        .with_weight_map(if masked {
            WeightMapMode::MaskedInputs
        } else {
            WeightMapMode::Voxel
        })
        .with_reduction(reduction(a, "mean")?))
}

fn monai_focal(a: &Args, use_softmax: bool, channels: usize) -> Result<FocalLossConfig, String> {
    let alpha = match a.kw.get("alpha") {
        None | Some(Py::None) => FocalAlpha::None,
        Some(Py::List(_)) => FocalAlpha::PerClass(monai_per_class(a, "alpha", channels).unwrap()),
        // MONAI drops a scalar alpha (with a warning) for softmax without background.
        Some(_) if use_softmax && !a.b("include_background", true) && channels > 1 => {
            FocalAlpha::None
        }
        Some(v) => FocalAlpha::Balanced(v.as_f64().ok_or("alpha")?),
    };
    Ok(FocalLossConfig::new()
        .with_activation(if use_softmax {
            Activation::Softmax
        } else {
            Activation::Sigmoid
        })
        .with_gamma(a.f("gamma", 2.0))
        .with_alpha(alpha)
        .with_classes(monai_classes(a))
        .with_class_weights(monai_per_class(a, "weight", channels))
        .with_ignore_index(a.int("ignore_index"))
        .with_dense_ignore(DenseIgnore::Monai)
        // MONAI divides by the number of non-ignored voxels when an ignore label is set, and its
        // 'sum' adds up the spatial means of each (sample, channel).
        .with_mean_over(MeanOver::ValidVoxels)
        .with_sum_over(SumOver::SpatialMeans)
        .with_reduction(reduction(a, "mean")?))
}

fn monai(class: &str, a: &Args, masked: bool, channels: usize) -> Result<AnyLossConfig, String> {
    match class {
        "DiceLoss" | "MaskedDiceLoss" => {
            a.only(&[MONAI_COMMON, &["jaccard", "squared_pred"]].concat())?;
            Ok(AnyLossConfig::Overlap(monai_dice(
                a,
                masked && class == "MaskedDiceLoss",
                channels,
            )?))
        }
        "GeneralizedDiceLoss" => {
            a.only(&[MONAI_COMMON, &["w_type"]].concat())?;
            Ok(AnyLossConfig::GeneralizedDice(monai_gdl(a, channels)?))
        }
        "TverskyLoss" => {
            a.only(&[MONAI_COMMON, &["alpha", "beta"]].concat())?;
            Ok(AnyLossConfig::Overlap(
                OverlapLossConfig::tversky(a.f("alpha", 0.5), a.f("beta", 0.5))
                    .with_activation(monai_activation(a, channels))
                    .with_classes(monai_classes(a))
                    .with_pooling(monai_pooling(a))
                    .with_smooth_nr(a.f("smooth_nr", 1e-5))
                    .with_smooth_dr(a.f("smooth_dr", 1e-5))
                    .with_ignore_index(a.int("ignore_index"))
                    .with_dense_ignore(DenseIgnore::Monai)
                    .with_reduction(reduction(a, "mean")?),
            ))
        }
        "FocalLoss" => {
            a.only(&[
                "include_background",
                "to_onehot_y",
                "gamma",
                "alpha",
                "weight",
                "reduction",
                "use_softmax",
                "ignore_index",
                "use_softmax",
            ])?;
            Ok(AnyLossConfig::Focal(monai_focal(
                a,
                a.b("use_softmax", false),
                channels,
            )?))
        }
        "DiceCELoss" => {
            a.only(
                &[
                    MONAI_COMMON,
                    &[
                        "jaccard",
                        "squared_pred",
                        "lambda_dice",
                        "lambda_ce",
                        "label_smoothing",
                    ],
                ]
                .concat(),
            )?;
            let dice = monai_dice(a, false, channels)?;
            let (ld, lc) = (a.f("lambda_dice", 1.0), a.f("lambda_ce", 1.0));
            // MONAI uses BCE only for a single channel; with C > 1 it uses CrossEntropyLoss even
            // with sigmoid=True (the multi-hot target then acts as class probabilities).
            if channels == 1 {
                // MONAI passes `weight` as BCEWithLogitsLoss(pos_weight=...).
                let bce = BceLossConfig::new().with_pos_weight(a.list("weight"));
                Ok(AnyLossConfig::Composite(CompositeLossConfig::dice_bce(
                    ld, dice, lc, bce,
                )))
            } else {
                let ce = CrossEntropyLossConfig::new()
                    .with_class_weights(a.list("weight"))
                    .with_label_smoothing(a.f("label_smoothing", 0.0))
                    .with_ignore_index(a.int("ignore_index"));
                // DiceLoss receives weight[1:] when background is excluded: the same weights per channel.
                let dice = dice.with_class_weights(a.list("weight"));
                Ok(AnyLossConfig::Composite(CompositeLossConfig::dice_ce(
                    ld, dice, lc, ce,
                )))
            }
        }
        "DiceFocalLoss" => {
            a.only(
                &[
                    MONAI_COMMON,
                    &[
                        "jaccard",
                        "squared_pred",
                        "lambda_dice",
                        "lambda_focal",
                        "gamma",
                        "alpha",
                    ],
                ]
                .concat(),
            )?;
            let dice = monai_dice(a, false, channels)?;
            // MONAI never passes use_softmax to its FocalLoss: the focal term is the sigmoid form.
            let focal = monai_focal(a, false, channels)?;
            Ok(AnyLossConfig::Composite(CompositeLossConfig::dice_focal(
                a.f("lambda_dice", 1.0),
                dice,
                a.f("lambda_focal", 1.0),
                focal,
            )))
        }
        "GeneralizedDiceFocalLoss" => {
            a.only(
                &[
                    MONAI_COMMON,
                    &["w_type", "lambda_gdl", "lambda_focal", "gamma"],
                ]
                .concat(),
            )?;
            let gdl = monai_gdl(a, channels)?;
            let focal = monai_focal(a, false, channels)?;
            Ok(AnyLossConfig::Composite(
                CompositeLossConfig::generalized_dice_focal(
                    a.f("lambda_gdl", 1.0),
                    gdl,
                    a.f("lambda_focal", 1.0),
                    focal,
                ),
            ))
        }
        "MCCLoss" => {
            a.only(&[
                "include_background",
                "to_onehot_y",
                "sigmoid",
                "softmax",
                "reduction",
                "batch",
                "smooth_nr",
                "smooth_dr",
            ])?;
            Ok(AnyLossConfig::Mcc(
                MccLossConfig::new()
                    .with_activation(monai_activation(a, channels))
                    .with_classes(monai_classes(a))
                    .with_pooling(monai_pooling(a))
                    .with_smooth_nr(a.f("smooth_nr", 0.0))
                    .with_smooth_dr(a.f("smooth_dr", 1e-5))
                    .with_reduction(reduction(a, "mean")?),
            ))
        }
        "HausdorffDTLoss" | "LogHausdorffDTLoss" => {
            a.only(&[
                "alpha",
                "include_background",
                "to_onehot_y",
                "sigmoid",
                "softmax",
                "reduction",
                "batch",
            ])?;
            Ok(AnyLossConfig::HausdorffDt(
                HausdorffDtLossConfig::new()
                    .with_activation(monai_activation(a, channels))
                    // MONAI's default here is include_background=False.
                    .with_classes(if a.b("include_background", false) {
                        ClassSelection::All
                    } else {
                        ClassSelection::ExcludeBackground
                    })
                    .with_pooling(monai_pooling(a))
                    .with_alpha(a.f("alpha", 2.0))
                    .with_reduction(reduction(a, "mean")?)
                    .with_log(class == "LogHausdorffDTLoss"),
            ))
        }
        "BoundaryLoss" => {
            a.only(&[
                "include_background",
                "to_onehot_y",
                "sigmoid",
                "softmax",
                "reduction",
                "batch",
            ])?;
            Ok(AnyLossConfig::Boundary(
                BoundaryLossConfig::new()
                    .with_activation(monai_activation(a, channels))
                    .with_classes(monai_classes(a))
                    .with_pooling(monai_pooling(a))
                    .with_reduction(reduction(a, "mean")?),
            ))
        }
        "SoftclDiceLoss" | "SoftDiceclDiceLoss" => {
            const CL: &[&str] = &[
                "iter_",
                "smooth_nr",
                "smooth_dr",
                "smooth",
                "include_background",
                "to_onehot_y",
                "sigmoid",
                "softmax",
                "reduction",
            ];
            let (nr, dr) = (a.f("smooth_nr", 1.0), a.f("smooth_dr", 1.0));
            let cl = ClDiceLossConfig::new()
                .with_activation(monai_activation(a, channels))
                .with_classes(monai_classes(a))
                .with_iterations(a.int("iter_").unwrap_or(3) as usize)
                .with_smooth_nr(nr)
                .with_smooth_dr(dr)
                .with_smooth(a.f("smooth", 1e-4))
                .with_reduction(reduction(a, "mean")?);
            if class == "SoftclDiceLoss" {
                a.only(CL)?;
                return Ok(AnyLossConfig::ClDice(cl));
            }
            a.only(&[CL, &["alpha"]].concat())?;
            // The Dice part is MONAI's DiceLoss with the same smoothing (1 by default here).
            let dice = OverlapLossConfig::dice()
                .with_activation(monai_activation(a, channels))
                .with_classes(monai_classes(a))
                .with_smooth_nr(nr)
                .with_smooth_dr(dr)
                .with_reduction(reduction(a, "mean")?);
            Ok(AnyLossConfig::Composite(
                CompositeLossConfig::dice_cl_dice(a.f("alpha", 0.5), dice, cl)
                    .map_err(|e| e.to_string())?,
            ))
        }
        "GeneralizedWassersteinDiceLoss" => {
            a.only(&[
                "dist_matrix",
                "weighting_mode",
                "reduction",
                "smooth_nr",
                "smooth_dr",
            ])?;
            let flat = a.list("dist_matrix").ok_or("dist_matrix")?;
            if flat.len() != channels * channels {
                return Err(format!(
                    "dist_matrix has {} values for {channels} classes",
                    flat.len()
                ));
            }
            let weighting = match a.s("weighting_mode").as_deref().unwrap_or("default") {
                "default" => WassersteinWeighting::Default,
                "GDL" => WassersteinWeighting::Gdl,
                other => return Err(format!("weighting_mode '{other}'")),
            };
            Ok(AnyLossConfig::WassersteinDice(
                WassersteinDiceLossConfig::new(
                    flat.chunks(channels).map(<[f64]>::to_vec).collect(),
                )
                .with_weighting(weighting)
                .with_smooth_nr(a.f("smooth_nr", 1e-5))
                .with_smooth_dr(a.f("smooth_dr", 1e-5))
                .with_reduction(reduction(a, "mean")?),
            ))
        }
        // MONAI's unified focal losses take probabilities (its docstring says logits).
        "AsymmetricUnifiedFocalLoss" => {
            a.only(&[
                "to_onehot_y",
                "num_classes",
                "weight",
                "gamma",
                "delta",
                "reduction",
                "ignore_index",
            ])?;
            Ok(AnyLossConfig::UnifiedFocal(
                UnifiedFocalLossConfig::new()
                    .with_activation(Activation::Identity)
                    .with_weight(a.f("weight", 0.5))
                    .with_gamma(a.f("gamma", 0.5))
                    .with_delta(a.f("delta", 0.7))
                    .with_ignore_index(a.int("ignore_index")),
            ))
        }
        "AsymmetricFocalLoss" | "AsymmetricFocalTverskyLoss" => {
            a.only(&["to_onehot_y", "delta", "gamma", "epsilon", "reduction"])?;
            let focal = class == "AsymmetricFocalLoss";
            Ok(AnyLossConfig::UnifiedFocal(
                UnifiedFocalLossConfig::new()
                    .with_activation(Activation::Identity)
                    .with_weight(if focal { 1.0 } else { 0.0 })
                    .with_gamma(a.f("gamma", if focal { 2.0 } else { 0.75 }))
                    .with_delta(a.f("delta", 0.7))
                    .with_epsilon(a.f("epsilon", 1e-7))
                    .with_reduction(reduction(a, "mean")?),
            ))
        }
        "NACLLoss" => {
            a.only(&[
                "classes",
                "dim",
                "kernel_size",
                "kernel_ops",
                "distance_type",
                "alpha",
                "sigma",
            ])?;
            let kernel = match a.s("kernel_ops").as_deref().unwrap_or("mean") {
                "mean" => NaclKernel::Mean {
                    size: a.int("kernel_size").unwrap_or(3) as usize,
                },
                "gaussian" => NaclKernel::Gaussian {
                    sigma: a.f("sigma", 1.0),
                },
                other => return Err(format!("kernel_ops '{other}'")),
            };
            let distance = match a.s("distance_type").as_deref().unwrap_or("l1") {
                "l1" => NaclDistance::L1,
                "l2" => NaclDistance::L2,
                other => return Err(format!("distance_type '{other}'")),
            };
            Ok(AnyLossConfig::Nacl(
                NaclLossConfig::new()
                    .with_kernel(kernel)
                    .with_distance(distance)
                    .with_alpha(a.f("alpha", 0.1)),
            ))
        }
        other => Err(format!("MONAI {other} is not implemented in dicekit")),
    }
}

fn monai_gdl(a: &Args, channels: usize) -> Result<GeneralizedDiceLossConfig, String> {
    let weights = match a.s("w_type").as_deref().unwrap_or("square") {
        "square" => GdlWeights::Square,
        "simple" => GdlWeights::Simple,
        "uniform" => GdlWeights::Uniform,
        other => return Err(format!("w_type '{other}'")),
    };
    Ok(GeneralizedDiceLossConfig::new()
        .with_activation(monai_activation(a, channels))
        .with_classes(monai_classes(a))
        .with_pooling(monai_pooling(a))
        .with_weights(weights)
        .with_intersection(if a.b("soft_label", false) {
            Intersection::Norm
        } else {
            Intersection::Product
        })
        .with_smooth_nr(a.f("smooth_nr", 1e-5))
        .with_smooth_dr(a.f("smooth_dr", 1e-5))
        .with_ignore_index(a.int("ignore_index"))
        .with_reduction(reduction(a, "mean")?))
}

// ---------------------------------------------------------------- smp 0.6
fn smp_activation(a: &Args) -> Result<Activation, String> {
    if !a.b("from_logits", true) {
        return Ok(Activation::Identity);
    }
    match a.s("mode").as_deref() {
        Some("binary") | Some("multilabel") => Ok(Activation::Sigmoid),
        Some("multiclass") => Ok(Activation::Softmax),
        other => Err(format!("smp mode {other:?}")),
    }
}

fn smp_overlap(a: &Args, index: OverlapIndex) -> Result<OverlapLossConfig, String> {
    let eps = a.f("eps", 1e-7);
    // smp 0.6 scores Dice as Tversky(0.5, 0.5): (I + s) / max(I + FP/2 + FN/2 + s, eps), which is
    // dicekit's Dice (2I + 2s) / max(P + G + 2s, 2 eps).
    let scale = if index == OverlapIndex::Dice {
        2.0
    } else {
        1.0
    };
    let smooth = a.f("smooth", 0.0) * scale;
    let classes = match a.kw.get("classes") {
        Some(Py::List(v)) => {
            ClassSelection::Only(v.iter().map(|x| x.as_f64().unwrap() as usize).collect())
        }
        _ => ClassSelection::All,
    };
    Ok(OverlapLossConfig::new()
        .with_index(index)
        .with_activation(smp_activation(a)?)
        .with_classes(classes)
        .with_pooling(Pooling::Batch)
        .with_intersection(Intersection::Norm)
        .with_smooth_nr(smooth)
        .with_smooth_dr(smooth)
        .with_eps(eps * scale)
        .with_form(if a.b("log_loss", false) {
            LossForm::NegLog { floor: eps }
        } else {
            LossForm::OneMinus
        })
        .with_absent(AbsentClass::Zero)
        .with_class_weights(a.list("class_weights"))
        .with_weight_normalization(WeightNormalization::Normalize)
        .with_ignore_index(a.int("ignore_index")))
}

fn smp(class: &str, a: &Args, channels: usize) -> Result<AnyLossConfig, String> {
    const OVERLAP: &[&str] = &[
        "mode",
        "classes",
        "log_loss",
        "from_logits",
        "smooth",
        "ignore_index",
        "eps",
        "class_weights",
    ];
    match class {
        "DiceLoss" => {
            a.only(OVERLAP)?;
            Ok(AnyLossConfig::Overlap(smp_overlap(a, OverlapIndex::Dice)?))
        }
        "JaccardLoss" => {
            a.only(OVERLAP)?;
            Ok(AnyLossConfig::Overlap(smp_overlap(
                a,
                OverlapIndex::Jaccard,
            )?))
        }
        "TverskyLoss" => {
            a.only(&[OVERLAP, &["alpha", "beta", "gamma"]].concat())?;
            let index = OverlapIndex::Tversky {
                alpha: a.f("alpha", 0.5),
                beta: a.f("beta", 0.5),
            };
            Ok(AnyLossConfig::Overlap(
                smp_overlap(a, index)?
                    .with_gamma(a.f("gamma", 1.0))
                    .with_gamma_placement(GammaPlacement::AfterReduction),
            ))
        }
        "FocalLoss" => {
            a.only(&[
                "mode",
                "alpha",
                "gamma",
                "ignore_index",
                "reduction",
                "normalized",
                "reduced_threshold",
                "class_weights",
            ])?;
            let alpha = match a.kw.get("alpha") {
                None | Some(Py::None) => FocalAlpha::None,
                Some(v) => FocalAlpha::Balanced(v.as_f64().ok_or("alpha")?),
            };
            let reduction = reduction(a, "mean")?;
            let normalized = a.b("normalized", false);
            // smp's multiclass focal is one-vs-rest sigmoid on the one-hot target.
            let focal = FocalLossConfig::new()
                .with_activation(Activation::Sigmoid)
                .with_gamma(a.f("gamma", 2.0))
                .with_alpha(alpha)
                .with_ignore_index(a.int("ignore_index"))
                .with_mean_over(MeanOver::ValidEntries)
                .with_reduction(reduction)
                .with_normalized(normalized)
                .with_reduced_threshold(a.kw.get("reduced_threshold").and_then(Py::as_f64));
            let weights = a.list("class_weights");
            let per_class = a.s("mode").as_deref() != Some("binary")
                && channels > 1
                && (normalized || weights.is_some() || reduction == Reduction::Sum);
            if !per_class {
                return Ok(AnyLossConfig::Focal(focal));
            }
            // Multi-class and multi-label: one focal loss per channel (normalized over that
            // channel, 'sum' summing that channel), then the class mean, weighted
            // sum_c w_c L_c / sum_c w_c with class_weights.
            let w = weights.unwrap_or_else(|| vec![1.0; channels]);
            let total: f64 = w.iter().sum();
            let terms = (0..channels)
                .map(|c| CompositeTerm {
                    name: format!("focal_{c}"),
                    weight: w[c] / total,
                    loss: AnyLossConfig::Focal(
                        focal.clone().with_classes(ClassSelection::Only(vec![c])),
                    ),
                })
                .collect();
            Ok(AnyLossConfig::Composite(CompositeLossConfig::new(terms)))
        }
        "LovaszLoss" => {
            a.only(&["mode", "per_image", "ignore_index", "from_logits"])?;
            // Binary and multi-label: every channel of an image (or of the batch) flattened into
            // one hinge problem; multi-class: Lovász-softmax over the present classes.
            let (variant, classes) = match a.s("mode").as_deref() {
                Some("multiclass") => (LovaszVariant::Softmax, LovaszClasses::Present),
                _ => (LovaszVariant::Hinge, LovaszClasses::Joint),
            };
            Ok(AnyLossConfig::Lovasz(
                LovaszLossConfig::new()
                    .with_variant(variant)
                    .with_pooling(if a.b("per_image", false) {
                        Pooling::PerSample
                    } else {
                        Pooling::Batch
                    })
                    .with_classes(classes)
                    .with_ignore_index(a.int("ignore_index")),
            ))
        }
        "SoftBCEWithLogitsLoss" => {
            a.only(&[
                "weight",
                "ignore_index",
                "reduction",
                "smooth_factor",
                "pos_weight",
            ])?;
            Ok(AnyLossConfig::Bce(
                BceLossConfig::new()
                    .with_label_smoothing(a.f("smooth_factor", 0.0))
                    .with_ignore_index(Some(a.int("ignore_index").unwrap_or(-100)))
                    .with_pos_weight(torch_weight(a, "pos_weight", channels)?)
                    .with_class_weights(torch_weight(a, "weight", channels)?)
                    .with_mean_over(MeanOver::AllEntries)
                    .with_reduction(reduction(a, "mean")?),
            ))
        }
        "SoftCrossEntropyLoss" => {
            a.only(&["reduction", "smooth_factor", "ignore_index", "dim"])?;
            Ok(AnyLossConfig::CrossEntropy(
                CrossEntropyLossConfig::new()
                    .with_label_smoothing(a.f("smooth_factor", 0.0))
                    .with_ignore_index(Some(a.int("ignore_index").unwrap_or(-100)))
                    .with_mean_over(MeanOver::AllEntries)
                    .with_reduction(reduction(a, "mean")?),
            ))
        }
        other => Err(format!("smp {other} is not implemented in dicekit")),
    }
}

// ---------------------------------------------------------------- kornia 0.9
fn kornia(class: &str, a: &Args) -> Result<AnyLossConfig, String> {
    let ignore = a.int("ignore_index").or(Some(-100));
    match class {
        "DiceLoss" => {
            a.only(&["average", "eps", "weight", "ignore_index"])?;
            let eps = a.f("eps", 1e-8);
            match a.s("average").as_deref().unwrap_or("micro") {
                // 1 - 2 sum_c w_c I_c / (sum_c w_c (P_c + G_c) + eps) per sample: a generalized
                // Dice with the given weights (1 without).
                "micro" => {
                    let weights = match a.list("weight") {
                        Some(w) => GdlWeights::Given(w),
                        None => GdlWeights::Uniform,
                    };
                    Ok(AnyLossConfig::GeneralizedDice(
                        GeneralizedDiceLossConfig::new()
                            .with_weights(weights)
                            .with_smooth_nr(0.0)
                            .with_smooth_dr(eps)
                            .with_ignore_index(ignore),
                    ))
                }
                "macro" => Ok(AnyLossConfig::Overlap(
                    OverlapLossConfig::dice()
                        .with_smooth_nr(0.0)
                        .with_smooth_dr(eps)
                        .with_absent(AbsentClass::Drop)
                        .with_class_weights(a.list("weight"))
                        .with_weight_normalization(WeightNormalization::Normalize)
                        .with_ignore_index(ignore),
                )),
                other => Err(format!("kornia average '{other}'")),
            }
        }
        "TverskyLoss" => {
            a.only(&["alpha", "beta", "eps", "ignore_index"])?;
            Ok(AnyLossConfig::Overlap(
                OverlapLossConfig::tversky(a.f("alpha", 0.5), a.f("beta", 0.5))
                    .with_smooth_nr(0.0)
                    .with_smooth_dr(a.f("eps", 1e-8))
                    .with_absent(AbsentClass::Drop)
                    .with_ignore_index(ignore),
            ))
        }
        "FocalLoss" | "BinaryFocalLossWithLogits" => {
            a.only(&[
                "alpha",
                "gamma",
                "reduction",
                "pos_weight",
                "weight",
                "ignore_index",
                "eps",
            ])?;
            let alpha = match a.kw.get("alpha") {
                None | Some(Py::None) => FocalAlpha::None,
                Some(v) => FocalAlpha::Balanced(v.as_f64().ok_or("alpha")?),
            };
            let act = if class == "FocalLoss" {
                Activation::Softmax
            } else {
                Activation::Sigmoid
            };
            Ok(AnyLossConfig::Focal(
                FocalLossConfig::new()
                    .with_activation(act)
                    .with_gamma(a.f("gamma", 2.0))
                    .with_alpha(alpha)
                    .with_pos_weight(a.list("pos_weight"))
                    .with_class_weights(a.list("weight"))
                    // Both default to ignore_index=-100; ignored entries count in the mean.
                    .with_ignore_index(ignore)
                    .with_mean_over(MeanOver::AllEntries)
                    .with_reduction(reduction(a, "none")?),
            ))
        }
        // B x 1 x H x W logits, one hinge problem per image, every image counted.
        "LovaszHingeLoss" => {
            a.only(&[])?;
            Ok(AnyLossConfig::Lovasz(
                LovaszLossConfig::new()
                    .with_variant(LovaszVariant::Hinge)
                    .with_pooling(Pooling::PerSample)
                    .with_classes(LovaszClasses::Joint),
            ))
        }
        "LovaszSoftmaxLoss" => {
            a.only(&["weight"])?;
            if a.list("weight").is_some() {
                return Err("kornia Lovász with weights is not translated".into());
            }
            Ok(AnyLossConfig::Lovasz(
                LovaszLossConfig::new()
                    .with_variant(LovaszVariant::Softmax)
                    .with_pooling(Pooling::PerSample)
                    .with_classes(LovaszClasses::All),
            ))
        }
        other => Err(format!("kornia {other} is not implemented in dicekit")),
    }
}

// ---------------------------------------------------------------- nnU-Net 2.8
fn nnunet_dice(kw: &Kw, nonlin: Option<&str>) -> Result<OverlapLossConfig, String> {
    let a = Args {
        kw,
        per_channel: Vec::new(),
    };
    a.only(&[
        "apply_nonlin",
        "batch_dice",
        "do_bg",
        "smooth",
        "ddp",
        "clip_tp",
    ])?;
    let activation = match a.ident("apply_nonlin").as_deref().or(nonlin) {
        Some("softmax_helper_dim1") => Activation::Softmax,
        Some("torch.sigmoid") | Some("sigmoid") => Activation::Sigmoid,
        None | Some("None") => Activation::Identity,
        Some(other) => return Err(format!("nnU-Net apply_nonlin {other}")),
    };
    let smooth = a.f("smooth", 1.0);
    Ok(OverlapLossConfig::dice()
        .with_activation(activation)
        .with_classes(if a.b("do_bg", true) {
            ClassSelection::All
        } else {
            ClassSelection::ExcludeBackground
        })
        .with_pooling(if a.b("batch_dice", false) {
            Pooling::Batch
        } else {
            Pooling::PerSample
        })
        .with_smooth_nr(smooth)
        .with_smooth_dr(smooth)
        .with_eps(1e-8)
        .with_clip_intersection(a.kw.get("clip_tp").and_then(Py::as_f64))
        .with_form(LossForm::Negative))
}

fn nnunet(class: &str, a: &Args, target: &TargetMode) -> Result<AnyLossConfig, String> {
    match class {
        "SoftDiceLoss" | "MemoryEfficientSoftDiceLoss" => {
            Ok(AnyLossConfig::Overlap(nnunet_dice(a.kw, None)?))
        }
        "DC_and_CE_loss" => {
            a.only(&[
                "soft_dice_kwargs",
                "ce_kwargs",
                "weight_ce",
                "weight_dice",
                "ignore_label",
                "dice_class",
            ])?;
            let ignore = a.int("ignore_label");
            let dice = nnunet_dice(&a.dict("soft_dice_kwargs"), Some("softmax_helper_dim1"))?
                .with_ignore_index(ignore);
            let ce_kw = a.dict("ce_kwargs");
            let ce_args = Args {
                kw: &ce_kw,
                per_channel: Vec::new(),
            };
            ce_args.only(&["weight", "label_smoothing"])?;
            let ce = CrossEntropyLossConfig::new()
                .with_class_weights(ce_args.list("weight"))
                .with_label_smoothing(ce_args.f("label_smoothing", 0.0))
                .with_ignore_index(ignore);
            Ok(AnyLossConfig::Composite(CompositeLossConfig::dice_ce(
                a.f("weight_dice", 1.0),
                dice,
                a.f("weight_ce", 1.0),
                ce,
            )))
        }
        "DC_and_BCE_loss" => {
            a.only(&[
                "bce_kwargs",
                "soft_dice_kwargs",
                "weight_ce",
                "weight_dice",
                "use_ignore_label",
                "dice_class",
            ])?;
            let ignore = match target {
                TargetMode::DenseWithIgnoreChannel { ignore } => Some(*ignore),
                _ => None,
            };
            let dice = nnunet_dice(&a.dict("soft_dice_kwargs"), Some("torch.sigmoid"))?
                .with_ignore_index(ignore);
            if let Some(k) = a.dict("bce_kwargs").keys().next() {
                return Err(format!("nnU-Net bce_kwargs `{k}` is not translated"));
            }
            let bce = BceLossConfig::new()
                .with_ignore_index(ignore)
                // nnU-Net divides the masked BCE sum by the number of valid voxels.
                .with_mean_over(MeanOver::ValidVoxels);
            Ok(AnyLossConfig::Composite(CompositeLossConfig::dice_bce(
                a.f("weight_dice", 1.0),
                dice,
                a.f("weight_ce", 1.0),
                bce,
            )))
        }
        "TopKLoss" => Ok(AnyLossConfig::TopK(nnunet_top_k(a)?)),
        "DC_and_topk_loss" => {
            a.only(&[
                "soft_dice_kwargs",
                "ce_kwargs",
                "weight_ce",
                "weight_dice",
                "ignore_label",
            ])?;
            let ignore = a.int("ignore_label");
            let dice = nnunet_dice(&a.dict("soft_dice_kwargs"), Some("softmax_helper_dim1"))?
                .with_ignore_index(ignore);
            let ce_kw = a.dict("ce_kwargs");
            let mut top_k = nnunet_top_k(&Args {
                kw: &ce_kw,
                per_channel: Vec::new(),
            })?;
            if ignore.is_some() {
                top_k = top_k.with_ignore_index(ignore);
            }
            let term = |name: &str, weight: f64, loss: AnyLossConfig| CompositeTerm {
                name: name.into(),
                weight,
                loss,
            };
            Ok(AnyLossConfig::Composite(CompositeLossConfig::new(vec![
                term(
                    "dice",
                    a.f("weight_dice", 1.0),
                    AnyLossConfig::Overlap(dice),
                ),
                term("top_k", a.f("weight_ce", 1.0), AnyLossConfig::TopK(top_k)),
            ])))
        }
        other => Err(format!("nnU-Net {other} is not implemented in dicekit")),
    }
}

/// nnU-Net 2.8 `TopKLoss(weight=None, ignore_index=-100, k=10, label_smoothing=0)`: torch's
/// -100 never occurs among class indices, so it is no ignore label.
fn nnunet_top_k(a: &Args) -> Result<TopKLossConfig, String> {
    a.only(&["weight", "ignore_index", "k", "label_smoothing"])?;
    Ok(TopKLossConfig::new()
        .with_k(a.f("k", 10.0))
        .with_class_weights(a.list("weight"))
        .with_ignore_index(a.int("ignore_index").filter(|&i| i != -100))
        .with_label_smoothing(a.f("label_smoothing", 0.0)))
}

// ---------------------------------------------------------------- torch 2.15
/// torch broadcasts a weight list against the LAST axis: one value weighs every channel; a
/// tensor of shape `[C, 1, ...]` weighs the channels; a longer flat list weighs positions along
/// the last axis, which no dicekit option expresses.
fn torch_weight(a: &Args, key: &str, channels: usize) -> Result<Option<Vec<f64>>, String> {
    match a.list(key) {
        Some(v) if v.len() == 1 => Ok(Some(vec![v[0]; channels])),
        Some(v) if a.per_channel.iter().any(|k| k == key) => Ok(Some(v)),
        Some(_) => Err(format!(
            "torch `{key}` with several values broadcasts along the last axis"
        )),
        None => Ok(None),
    }
}

fn torch(
    class: &str,
    a: &Args,
    channels: usize,
    weight_is_map: bool,
) -> Result<AnyLossConfig, String> {
    match class {
        "BCEWithLogitsLoss" => {
            a.only(&["weight", "reduction", "pos_weight"])?;
            // An element-wise `weight` tensor is passed as the weight map (see `translate`).
            let weight = if weight_is_map {
                None
            } else {
                torch_weight(a, "weight", channels)?
            };
            let pos_weight = torch_weight(a, "pos_weight", channels)?;
            Ok(AnyLossConfig::Bce(
                BceLossConfig::new()
                    .with_pos_weight(pos_weight)
                    .with_class_weights(weight)
                    .with_reduction(reduction(a, "mean")?),
            ))
        }
        "CrossEntropyLoss" => {
            a.only(&["weight", "ignore_index", "reduction", "label_smoothing"])?;
            Ok(AnyLossConfig::CrossEntropy(
                CrossEntropyLossConfig::new()
                    .with_class_weights(a.list("weight"))
                    .with_ignore_index(Some(a.int("ignore_index").unwrap_or(-100)))
                    .with_label_smoothing(a.f("label_smoothing", 0.0))
                    .with_reduction(reduction(a, "mean")?),
            ))
        }
        other => Err(format!("torch {other} is not implemented in dicekit")),
    }
}
