//! LZF, the compression of PCD's `binary_compressed` data (liblzf's format: literal runs of
//! up to 32 bytes and back-references of 3 to 264 bytes within 8 KiB).

/// Decompresses `input` into exactly `expected_len` bytes; `None` if the stream is corrupt
/// or does not produce that many bytes.
pub fn decompress(input: &[u8], expected_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(expected_len);
    let mut i = 0;
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let literal = input.get(i..i + run)?;
            out.extend_from_slice(literal);
            i += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(i)? as usize;
                i += 1;
            }
            len += 2;
            let back = ((ctrl & 0x1f) << 8) + *input.get(i)? as usize + 1;
            i += 1;
            if back > out.len() {
                return None;
            }
            let start = out.len() - back;
            for k in 0..len {
                let b = out[start + k];
                out.push(b);
            }
        }
        if out.len() > expected_len {
            return None;
        }
    }
    (out.len() == expected_len).then_some(out)
}

/// Compresses `input` (greedy matching over a hash of 3-byte sequences).
pub fn compress(input: &[u8]) -> Vec<u8> {
    const HASH_BITS: usize = 14;
    const MAX_OFF: usize = 1 << 13;
    const MAX_REF: usize = (1 << 8) + (1 << 3);
    let mut table = vec![usize::MAX; 1 << HASH_BITS];
    let mut out = Vec::with_capacity(input.len() + input.len() / 32 + 1);
    let mut literal_start = 0;
    let flush = |out: &mut Vec<u8>, lit: &[u8]| {
        for chunk in lit.chunks(32) {
            out.push((chunk.len() - 1) as u8);
            out.extend_from_slice(chunk);
        }
    };
    let hash = |p: usize| {
        let v = (input[p] as u32) << 16 | (input[p + 1] as u32) << 8 | input[p + 2] as u32;
        (v.wrapping_mul(2654435761) >> (32 - HASH_BITS)) as usize
    };
    let mut i = 0;
    while i + 2 < input.len() {
        let h = hash(i);
        let candidate = table[h];
        table[h] = i;
        if candidate != usize::MAX
            && i - candidate <= MAX_OFF
            && input[candidate..candidate + 3] == input[i..i + 3]
        {
            let max_len = (input.len() - i).min(MAX_REF);
            let mut len = 3;
            while len < max_len && input[candidate + len] == input[i + len] {
                len += 1;
            }
            flush(&mut out, &input[literal_start..i]);
            let off = i - candidate - 1;
            let l = len - 2;
            if l < 7 {
                out.push(((l << 5) | (off >> 8)) as u8);
            } else {
                out.push(((7 << 5) | (off >> 8)) as u8);
                out.push((l - 7) as u8);
            }
            out.push((off & 0xff) as u8);
            i += len;
            literal_start = i;
        } else {
            i += 1;
        }
    }
    flush(&mut out, &input[literal_start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_repetitive_and_random() {
        let mut data: Vec<u8> = (0..20000u32)
            .flat_map(|i| (i % 300).to_le_bytes())
            .collect();
        let mut state = 12345u32;
        data.extend((0..5000).map(|_| {
            state = state.wrapping_mul(1103515245).wrapping_add(12345);
            (state >> 16) as u8
        }));
        let packed = compress(&data);
        assert!(packed.len() < data.len());
        assert_eq!(decompress(&packed, data.len()).unwrap(), data);
        assert_eq!(decompress(&compress(b"ab"), 2).unwrap(), b"ab");
    }

    #[test]
    fn corrupt_streams_are_rejected() {
        let packed = compress(&[7u8; 1000]);
        assert!(decompress(&packed, 999).is_none());
        assert!(decompress(&packed[..packed.len() - 1], 1000).is_none());
        assert!(
            decompress(&[0x20, 0x05], 10).is_none(),
            "back-reference before start"
        );
        assert!(
            decompress(&[5, 1, 2], 6).is_none(),
            "literal run past the end"
        );
    }
}
