//! Scalar value types shared by the PCD and PLY formats.

/// A scalar type a header can declare for a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    /// Signed 8-bit integer.
    I8,
    /// Unsigned 8-bit integer.
    U8,
    /// Signed 16-bit integer.
    I16,
    /// Unsigned 16-bit integer.
    U16,
    /// Signed 32-bit integer.
    I32,
    /// Unsigned 32-bit integer.
    U32,
    /// Signed 64-bit integer.
    I64,
    /// Unsigned 64-bit integer.
    U64,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
}

impl Scalar {
    /// Size in bytes.
    pub fn size(self) -> usize {
        match self {
            Scalar::I8 | Scalar::U8 => 1,
            Scalar::I16 | Scalar::U16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::I64 | Scalar::U64 | Scalar::F64 => 8,
        }
    }

    /// True for integer types.
    pub fn is_integer(self) -> bool {
        !matches!(self, Scalar::F32 | Scalar::F64)
    }

    /// Decodes one value from the first `size()` bytes of `b` (which must hold them).
    pub fn decode(self, b: &[u8], big_endian: bool) -> f64 {
        macro_rules! get {
            ($t:ty, $n:expr) => {{
                let mut a = [0u8; $n];
                a.copy_from_slice(&b[..$n]);
                if big_endian {
                    <$t>::from_be_bytes(a) as f64
                } else {
                    <$t>::from_le_bytes(a) as f64
                }
            }};
        }
        match self {
            Scalar::I8 => b[0] as i8 as f64,
            Scalar::U8 => b[0] as f64,
            Scalar::I16 => get!(i16, 2),
            Scalar::U16 => get!(u16, 2),
            Scalar::I32 => get!(i32, 4),
            Scalar::U32 => get!(u32, 4),
            Scalar::I64 => get!(i64, 8),
            Scalar::U64 => get!(u64, 8),
            Scalar::F32 => get!(f32, 4),
            Scalar::F64 => get!(f64, 8),
        }
    }

    /// Parses one value written as text (integers may not carry a fraction).
    pub fn parse_text(self, s: &str) -> Option<f64> {
        if self.is_integer() {
            s.parse::<i64>()
                .map(|v| v as f64)
                .ok()
                .or_else(|| s.parse::<u64>().ok().map(|v| v as f64))
        } else {
            // PCL writes "nan"; Rust's parser accepts "NaN", "nan", "inf".
            s.parse::<f64>().ok()
        }
    }
}
