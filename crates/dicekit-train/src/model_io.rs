//! A trained network loaded for inference, 2D or 3D behind one type.
use std::path::Path;

use burn::module::Module;
use burn::prelude::*;
use dicekit_models::{AttentionNet2d, UNet2d, UNet3d};
use ndarray::ArrayD;

use crate::data::normalize;
use crate::infer::labels_from_probabilities;
use crate::train::output_activation;
use crate::{InputError, Predictor, TrainConfig, predict_probabilities};

/// The network of a training run, with what inference needs from its config.
#[derive(Debug)]
pub struct Trained {
    net: Net,
    /// Sliding-window settings (patch, overlap, activation; set `flip_tta` to average flips).
    pub predictor: Predictor,
    config: TrainConfig,
    device: Device,
}

#[derive(Debug)]
enum Net {
    D2(UNet2d),
    D3(UNet3d),
    Attention(Box<AttentionNet2d>),
}

/// An attention network's answer for one image.
#[derive(Debug, Clone)]
pub struct Classification {
    /// Probability of each image class.
    pub probabilities: Vec<f64>,
    /// The most probable class.
    pub class: usize,
    /// The mask the classifier pooled with `[...S]`, in [0, 1].
    pub attention: ArrayD<f32>,
}

impl Trained {
    /// Builds the network of `config` and loads the weights of `checkpoint` (a `.bpk` file).
    ///
    /// # Errors
    /// [`InputError::Checkpoint`] when the file cannot be read, does not fit the network or holds
    /// a weight that is not finite.
    pub fn load(config: &TrainConfig, checkpoint: &Path) -> Result<Self, InputError> {
        let bad = |error: String| InputError::Checkpoint {
            path: checkpoint.to_path_buf(),
            error,
        };
        let device = crate::train::training_device().inner();
        let record = burn::store::ModuleRecord::load(checkpoint).map_err(|e| bad(e.to_string()))?;
        let net = match (config.attention_config(), config.data.patch.len()) {
            (Some(a), _) => Net::Attention(Box::new(
                a.init(&device)
                    .try_load_record(record)
                    .map_err(|e| bad(e.to_string()))?,
            )),
            (None, 2) => Net::D2(
                config
                    .model
                    .init_2d(&device)
                    .try_load_record(record)
                    .map_err(|e| bad(e.to_string()))?,
            ),
            (None, _) => Net::D3(
                config
                    .model
                    .init_3d(&device)
                    .try_load_record(record)
                    .map_err(|e| bad(e.to_string()))?,
            ),
        };
        let source = checkpoint.display().to_string();
        match &net {
            Net::D2(m) => crate::finite::check_finite_weights(m, &source),
            Net::D3(m) => crate::finite::check_finite_weights(m, &source),
            Net::Attention(m) => crate::finite::check_finite_weights(m.as_ref(), &source),
        }
        .map_err(InputError::Data)?;
        let activation = output_activation(&config.loss);
        let predictor = Predictor {
            patch: config.data.patch.clone(),
            overlap: config.training.overlap,
            activation,
            flip_tta: false,
            batch: 4,
            resize: config.data.resize.clone(),
        };
        Ok(Trained {
            net,
            predictor,
            config: config.clone(),
            device,
        })
    }

    /// The run's config.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Probabilities `[K, ...S]` and labels `[...S]` of a raw image `[C, ...S]` (normalised here
    /// as in training).
    ///
    /// # Errors
    /// When the image's channels or rank do not fit the network.
    pub fn predict(&self, image: &ArrayD<f32>) -> Result<(ArrayD<f32>, ArrayD<u32>), InputError> {
        self.predict_inner(image).map_err(InputError::Image)
    }

    fn predict_inner(&self, image: &ArrayD<f32>) -> Result<(ArrayD<f32>, ArrayD<u32>), String> {
        if image.shape()[0] != self.config.model.in_channels {
            return Err(format!(
                "{} channels but the network takes {}",
                image.shape()[0],
                self.config.model.in_channels
            ));
        }
        if image.ndim() - 1 != self.config.data.patch.len() {
            return Err(format!(
                "{} spatial axes but the network is {}D",
                image.ndim() - 1,
                self.config.data.patch.len()
            ));
        }
        let mut x = image.clone();
        normalize(&mut x, self.config.data.normalization);
        let probs = match &self.net {
            Net::D2(m) => {
                predict_probabilities::<4, UNet2d>(&m.valid(), &x, &self.predictor, &self.device)?
            }
            Net::D3(m) => {
                predict_probabilities::<5, UNet3d>(&m.valid(), &x, &self.predictor, &self.device)?
            }
            Net::Attention(m) => predict_probabilities::<4, AttentionNet2d>(
                &m.valid(),
                &x,
                &self.predictor,
                &self.device,
            )?,
        };
        // Finite weights can still overflow on an image far outside the training range.
        if let Some(bad) = probs.iter().position(|v| !v.is_finite()) {
            return Err(format!(
                "the network's output is not finite (NaN or inf) at element {bad} of {}: the image's values may be far outside what it was trained on",
                probs.len()
            ));
        }
        let labels = labels_from_probabilities(&probs, self.predictor.activation);
        Ok((probs, labels))
    }

    /// Whether [`classify_with_reference`](Self::classify_with_reference) needs the reference
    /// labels: the oracle attention control.
    pub fn needs_reference(&self) -> bool {
        matches!(&self.net, Net::Attention(m) if m.attention().needs_reference())
    }

    /// The image class and the attention mask of a raw image `[C, H, W]` (normalised here), for
    /// an attention network; `None` for a plain segmentation network.
    ///
    /// # Errors
    /// When the image's channels or size do not fit the network (it takes whole images of the
    /// training size), or the network is the oracle control, which needs the reference
    /// ([`classify_with_reference`](Self::classify_with_reference)).
    pub fn classify(&self, image: &ArrayD<f32>) -> Result<Option<Classification>, InputError> {
        self.classify_with_reference(image, None)
    }

    /// [`classify`](Self::classify) with the reference labels `[H, W]` of the image, which the
    /// oracle attention control pools with (`dicekit_models::MaskAttention::Oracle`); the other
    /// modes ignore them.
    ///
    /// # Errors
    /// As [`classify`](Self::classify); also a reference whose shape is not the image's, or
    /// none for the oracle.
    pub fn classify_with_reference(
        &self,
        image: &ArrayD<f32>,
        reference: Option<&ArrayD<u32>>,
    ) -> Result<Option<Classification>, InputError> {
        self.classify_inner(image, reference)
            .map_err(InputError::Image)
    }

    fn classify_inner(
        &self,
        image: &ArrayD<f32>,
        reference: Option<&ArrayD<u32>>,
    ) -> Result<Option<Classification>, String> {
        let Net::Attention(m) = &self.net else {
            return Ok(None);
        };
        if image.shape()[1..] != self.config.data.patch[..] {
            return Err(format!(
                "image size {:?}: the attention network takes whole images of {:?}",
                &image.shape()[1..],
                self.config.data.patch
            ));
        }
        if image.shape()[0] != self.config.model.in_channels {
            return Err(format!(
                "{} channels but the network takes {}",
                image.shape()[0],
                self.config.model.in_channels
            ));
        }
        let reference = if m.attention().needs_reference() {
            let r = reference.ok_or(
                "the oracle attention network pools with the reference mask, and none was given",
            )?;
            if r.shape() != &image.shape()[1..] {
                return Err(format!(
                    "reference labels of shape {:?} for an image of {:?}",
                    r.shape(),
                    &image.shape()[1..]
                ));
            }
            let r = r
                .view()
                .insert_axis(ndarray::Axis(0))
                .insert_axis(ndarray::Axis(0));
            Some(crate::train::labels_tensor::<4>(r, &self.device))
        } else {
            None
        };
        let mut x = image.clone();
        normalize(&mut x, self.config.data.normalization);
        let mut shape = vec![1];
        shape.extend_from_slice(x.shape());
        let data: Vec<f32> = x.iter().copied().collect();
        let t = Tensor::<4>::from_data(burn::tensor::TensorData::new(data, shape), &self.device);
        let out = m.valid().forward_all(t, reference);
        let probabilities = burn::tensor::activation::softmax(out.class_logits, 1)
            .into_data()
            .convert::<f64>()
            .try_into_vec::<f64>()
            .map_err(|e| format!("{e:?}"))?;
        let class = dicekit_metrics::argmax(&probabilities);
        let mask = out
            .mask
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| format!("{e:?}"))?;
        let attention = ArrayD::from_shape_vec(ndarray::IxDyn(&image.shape()[1..]), mask)
            .map_err(|e| e.to_string())?;
        Ok(Some(Classification {
            probabilities,
            class,
            attention,
        }))
    }
}
