//! The integer types a label map may hold: the metrics read `u8`, `u16` and `u32` maps (a
//! NIfTI `uint8` file stays one byte per voxel) and `bool` masks, without widening them.

mod sealed {
    pub trait Sealed {}
    impl Sealed for u8 {}
    impl Sealed for u16 {}
    impl Sealed for u32 {}
    impl Sealed for bool {}
}

/// A voxel type of a label map: `u8`, `u16`, `u32`, or `bool` (a mask: `true` is label 1).
/// Labels are always named as `u32`; a label that does not fit the type is absent.
pub trait Label:
    Copy + PartialEq + Send + Sync + std::fmt::Debug + Into<u32> + 'static + sealed::Sealed
{
    /// Background (label 0).
    const ZERO: Self;
    /// The value as a `u32` label.
    fn to_u32(self) -> u32;
    /// The `u32` label as a value of this type, `None` if no voxel of this type can hold it.
    fn from_u32(label: u32) -> Option<Self>;
}

macro_rules! unsigned_label {
    ($($t:ty),*) => {$(
        impl Label for $t {
            const ZERO: Self = 0;
            #[inline]
            fn to_u32(self) -> u32 {
                u32::from(self)
            }
            #[inline]
            fn from_u32(label: u32) -> Option<Self> {
                <$t>::try_from(label).ok()
            }
        }
    )*};
}
unsigned_label!(u8, u16, u32);

impl Label for bool {
    const ZERO: Self = false;
    #[inline]
    fn to_u32(self) -> u32 {
        u32::from(self)
    }
    #[inline]
    fn from_u32(label: u32) -> Option<Self> {
        match label {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

/// Whether every element of `s` is background, in blocks the compiler vectorises.
#[inline]
pub(crate) fn all_zero<T: Label>(s: &[T]) -> bool {
    let mut chunks = s.chunks_exact(32);
    for c in &mut chunks {
        if !c.iter().fold(true, |acc, &v| acc & (v == T::ZERO)) {
            return false;
        }
    }
    chunks.remainder().iter().all(|&v| v == T::ZERO)
}
