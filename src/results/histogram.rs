//! A latency histogram as text in a results file: hdrhistogram's own V2 + DEFLATE
//! serialization, base64-encoded. Lossless, so histograms from several files add up exactly.

use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// `h` serialized and base64-encoded.
pub fn encode(h: &Histogram<u64>) -> Result<String, String> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new().serialize(h, &mut bytes).map_err(|e| format!("{e:?}"))?;
    Ok(BASE64.encode(bytes))
}

/// The histogram [`encode`] wrote.
pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = BASE64.decode(text).map_err(|e| format!("not base64: {e}"))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("not an HDR histogram: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encoding keeps every count: the decoded histogram equals the original.
    #[test]
    fn round_trip_is_lossless() {
        let mut h = Histogram::<u64>::new(3).unwrap();
        for v in [1u64, 7, 7, 150, 9_999, 1_234_567] {
            h.record(v).unwrap();
        }
        let back = decode(&encode(&h).unwrap()).unwrap();
        assert_eq!(back, h);
        assert!(decode("%%%").unwrap_err().contains("base64"));
        assert!(decode("AAAA").is_err());
    }
}
