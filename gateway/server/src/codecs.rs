//! The codec registry: the one place that knows every format adapter.

use std::collections::BTreeMap;
use std::sync::Arc;

use gateway_core::{Decode, Encode, Format, JsonCodec};

/// Every decoder and encoder the gateway has, by format.
#[derive(Clone)]
pub struct Codecs {
    decoders: BTreeMap<&'static str, (Format, Arc<dyn Decode>)>,
    encoders: BTreeMap<&'static str, (Format, Arc<dyn Encode>)>,
}

impl std::fmt::Debug for Codecs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codecs")
            .field("decoders", &self.decoders.keys().collect::<Vec<_>>())
            .field("encoders", &self.encoders.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Codecs {
    /// The codecs built into this binary.
    pub fn standard() -> Self {
        let mut c = Codecs {
            decoders: BTreeMap::new(),
            encoders: BTreeMap::new(),
        };
        c.add_decoder(Arc::new(JsonCodec));
        c.add_encoder(Arc::new(JsonCodec));
        let x12 = Arc::new(adapter_x12::X12Codec::new());
        c.add_decoder(x12.clone());
        c.add_encoder(x12);
        let cxml = Arc::new(adapter_cxml::CxmlCodec::new());
        c.add_decoder(cxml.clone());
        c.add_encoder(cxml);
        let csv = Arc::new(adapter_csv::CsvCodec);
        c.add_decoder(csv.clone());
        c.add_encoder(csv);
        // e-mail reads whole messages and hands each attachment to the codecs above
        let inner: Vec<Arc<dyn Decode>> = c.decoders.values().map(|(_, d)| d.clone()).collect();
        c.add_decoder(Arc::new(adapter_email::EmailCodec::new(inner)));
        c
    }

    fn add_decoder(&mut self, d: Arc<dyn Decode>) {
        let f = d.format();
        self.decoders.insert(f.as_str(), (f, d));
    }

    fn add_encoder(&mut self, e: Arc<dyn Encode>) {
        let f = e.format();
        self.encoders.insert(f.as_str(), (f, e));
    }

    pub fn decoder(&self, format: Format) -> Option<Arc<dyn Decode>> {
        self.decoders.get(format.as_str()).map(|(_, d)| d.clone())
    }

    pub fn encoder(&self, format: Format) -> Option<Arc<dyn Encode>> {
        self.encoders.get(format.as_str()).map(|(_, e)| e.clone())
    }

    /// Formats that can be read, for help and error messages.
    pub fn readable(&self) -> Vec<Format> {
        self.decoders.values().map(|(f, _)| *f).collect()
    }

    /// Formats that can be written.
    pub fn writable(&self) -> Vec<Format> {
        self.encoders.values().map(|(f, _)| *f).collect()
    }
}

/// `json, x12` style list for messages.
pub fn list(formats: &[Format]) -> String {
    formats
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
