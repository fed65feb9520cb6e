//! An n-D array with its physical geometry.

use ndarray::ArrayD;

use crate::DataErrorKind;

/// An n-D array with its physical geometry.
///
/// - `data`: the samples. Readers return it in standard (row-major) layout, so
///   `data.as_slice()` is `Some`. Axis order is the file's: for NIfTI `(x, y, z, ...)` as in
///   the header's `dim` (element `[i, j, k]` is voxel `(i, j, k)`, exactly what nibabel's
///   `np.asarray(img.dataobj)` gives); for PNG and TIFF `[rows, cols]`, i.e. shape `[H, W]`.
/// - `spacing`: voxel size in mm along each axis of `data`, `spacing.len() == data.ndim()`.
/// - `origin`: the world position (mm) of voxel `[0, 0, ...]`, `origin.len() == data.ndim()`.
///   For NIfTI it is the sform translation, or the qform offset; see
///   [`read_label_map`](crate::read_label_map).
/// - `affine`: the full voxel-to-world matrix when the file has one that says more than
///   `spacing` and `origin` (NIfTI: the sform if `sform_code > 0`, else the qform, kept when it
///   rotates or flips an axis; nibabel's `img.affine`), so that such volumes are written back
///   unchanged. `None` for axis-aligned NIfTI, PNG, TIFF and generated data.
///
/// # Examples
///
/// ```
/// use dicekit_data::Volume;
/// use ndarray::array;
///
/// let v = Volume::new(array![[0u32, 1], [1, 2]].into_dyn()).with_spacing(vec![0.75, 2.5]);
/// assert_eq!(v.shape(), &[2, 2]);
/// assert_eq!(v.spacing, vec![0.75, 2.5]);
/// assert_eq!(v.origin, vec![0.0, 0.0]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Volume<T> {
    /// The samples; see the type's docs for the axis order.
    pub data: ArrayD<T>,
    /// Voxel size in mm per axis of `data`.
    pub spacing: Vec<f64>,
    /// World position in mm of voxel `[0, 0, ...]`, per axis of `data`.
    pub origin: Vec<f64>,
    /// Voxel `(i, j, k, 1)` to world (mm) matrix, when the source file has one.
    pub affine: Option<[[f64; 4]; 4]>,
}

impl<T> Volume<T> {
    /// A volume with spacing 1 mm and origin 0 on every axis.
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::Volume;
    /// use ndarray::array;
    ///
    /// let v = Volume::new(array![[[1u32]]].into_dyn());
    /// assert_eq!(v.spacing, vec![1.0; 3]);
    /// assert_eq!(v.origin, vec![0.0; 3]);
    /// ```
    pub fn new(data: ArrayD<T>) -> Self {
        let n = data.ndim();
        Self {
            data,
            spacing: vec![1.0; n],
            origin: vec![0.0; n],
            affine: None,
        }
    }

    /// Replaces the spacing (mm per axis). Writers check that it has one finite, positive value
    /// per axis.
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::Volume;
    /// use ndarray::array;
    ///
    /// let v = Volume::new(array![[1u32, 0]].into_dyn()).with_spacing(vec![0.5, 0.5]);
    /// assert_eq!(v.spacing, vec![0.5, 0.5]);
    /// ```
    pub fn with_spacing(mut self, spacing: Vec<f64>) -> Self {
        self.spacing = spacing;
        self
    }

    /// Replaces the origin (mm per axis).
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::Volume;
    /// use ndarray::array;
    ///
    /// let v = Volume::new(array![[1u32, 0]].into_dyn()).with_origin(vec![-10.0, 4.0]);
    /// assert_eq!(v.origin, vec![-10.0, 4.0]);
    /// ```
    pub fn with_origin(mut self, origin: Vec<f64>) -> Self {
        self.origin = origin;
        self
    }

    /// Replaces the voxel-to-world matrix (written to NIfTI as the sform).
    pub fn with_affine(mut self, affine: Option<[[f64; 4]; 4]>) -> Self {
        self.affine = affine;
        self
    }

    /// The number of axes of `data`.
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::Volume;
    /// use ndarray::array;
    ///
    /// assert_eq!(Volume::new(array![[1u32, 0]].into_dyn()).ndim(), 2);
    /// ```
    pub fn ndim(&self) -> usize {
        self.data.ndim()
    }

    /// The shape of `data`.
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::Volume;
    /// use ndarray::array;
    ///
    /// assert_eq!(Volume::new(array![[1u32, 0, 0]].into_dyn()).shape(), &[1, 3]);
    /// ```
    pub fn shape(&self) -> &[usize] {
        self.data.shape()
    }
}

impl<T> Volume<T> {
    /// A channels-first image volume: `data` is `[C, ...S]`, and `spacing` (1 mm) and `origin`
    /// (0) get one value per SPATIAL axis, `data.ndim() - 1` values. This is the shape
    /// [`read_image`](crate::read_image) returns; see the [module docs](crate::image) for the convention.
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::Volume;
    /// use ndarray::Array3;
    ///
    /// let v = Volume::channels_first(Array3::<f32>::zeros((3, 4, 5)).into_dyn());
    /// assert_eq!((v.channels(), v.spatial_shape()), (3, &[4, 5][..]));
    /// assert_eq!(v.spacing, vec![1.0, 1.0]);
    /// assert_eq!(v.origin, vec![0.0, 0.0]);
    /// ```
    pub fn channels_first(data: ArrayD<T>) -> Self {
        let n = data.ndim().saturating_sub(1);
        Self {
            data,
            spacing: vec![1.0; n],
            origin: vec![0.0; n],
            affine: None,
        }
    }

    /// Whether `data`'s first axis is a channel axis: `spacing` has exactly one value fewer
    /// than `data` has axes (an image from [`read_image`](crate::read_image)). A label map (one spacing value per
    /// axis) has none.
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::Volume;
    /// use ndarray::array;
    ///
    /// assert!(!Volume::new(array![[0u32, 1]].into_dyn()).has_channel_axis());
    /// assert!(Volume::channels_first(array![[0.5f32, 1.0]].into_dyn()).has_channel_axis());
    /// ```
    pub fn has_channel_axis(&self) -> bool {
        self.spacing.len() + 1 == self.data.ndim()
    }

    /// The number of channels: `data.shape()[0]` for an image `[C, ...S]`, 1 for a label map.
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::Volume;
    /// use ndarray::{array, Array3};
    ///
    /// assert_eq!(Volume::channels_first(Array3::<f32>::zeros((4, 2, 2)).into_dyn()).channels(), 4);
    /// assert_eq!(Volume::new(array![[0u32, 1]].into_dyn()).channels(), 1);
    /// ```
    pub fn channels(&self) -> usize {
        if self.has_channel_axis() {
            self.data.shape()[0]
        } else {
            1
        }
    }

    /// The spatial shape `S`: `data`'s shape without the channel axis of an image, the whole
    /// shape of a label map. An image and its mask match when these are equal.
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::Volume;
    /// use ndarray::Array3;
    /// use ndarray::Array2;
    ///
    /// let image = Volume::channels_first(Array3::<f32>::zeros((3, 4, 5)).into_dyn());
    /// let mask = Volume::new(Array2::<u32>::zeros((4, 5)).into_dyn());
    /// assert_eq!(image.spatial_shape(), mask.spatial_shape());
    /// ```
    pub fn spatial_shape(&self) -> &[usize] {
        let shape = self.data.shape();
        if self.has_channel_axis() {
            &shape[1..]
        } else {
            shape
        }
    }
}

impl<T> Volume<T> {
    /// Checks the geometry shared by the writers: one finite, positive spacing (as `f32`, which
    /// NIfTI stores) and one finite origin value per axis.
    pub(crate) fn check_geometry(&self) -> Result<(), DataErrorKind> {
        let v = self;
        let ndim = v.data.ndim();
        if v.spacing.len() != ndim {
            return Err(DataErrorKind::NotWritable(format!(
                "spacing has {} values for {ndim} axes",
                v.spacing.len()
            )));
        }
        if v.origin.len() != ndim {
            return Err(DataErrorKind::NotWritable(format!(
                "origin has {} values for {ndim} axes",
                v.origin.len()
            )));
        }
        for (axis, &value) in v.spacing.iter().enumerate() {
            let stored = value as f32;
            if !(stored.is_finite() && stored > 0.0) {
                return Err(DataErrorKind::BadSpacing { axis, value });
            }
        }
        if let Some((axis, value)) = v.origin.iter().enumerate().find(|(_, o)| !o.is_finite()) {
            return Err(DataErrorKind::NotWritable(format!(
                "origin of axis {axis} is {value}"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    #[test]
    fn new_gives_unit_spacing_and_zero_origin_per_axis() {
        let v = Volume::new(ArrayD::<u32>::zeros(IxDyn(&[2, 3, 4])));
        assert_eq!(v.ndim(), 3);
        assert_eq!(v.spacing, vec![1.0, 1.0, 1.0]);
        assert_eq!(v.origin, vec![0.0, 0.0, 0.0]);
    }
}
