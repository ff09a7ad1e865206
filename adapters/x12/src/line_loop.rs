//! The IT1/PO1 loop that 810 and 850 share: the open line and the segments inside its loop
//! (PID, TXI, SAC, and what the model does not hold).

use gateway_model::{Charge, Extensions, InvoiceLine, OrderLine, Tax, Text};

use crate::common::{ExtBuilder, MapCx, read_charge, read_tax};
use crate::fields::Fields;

/// The parts of an invoice or order line that the loop's shared segments fill.
pub trait LoopLine {
    fn extensions_mut(&mut self) -> &mut Extensions;
    fn description_mut(&mut self) -> &mut Option<Text>;
    fn taxes_mut(&mut self) -> &mut Vec<Tax>;
    fn charges_mut(&mut self) -> &mut Vec<Charge>;
}

macro_rules! loop_line {
    ($line:ty) => {
        impl LoopLine for $line {
            fn extensions_mut(&mut self) -> &mut Extensions {
                &mut self.extensions
            }
            fn description_mut(&mut self) -> &mut Option<Text> {
                &mut self.description
            }
            fn taxes_mut(&mut self) -> &mut Vec<Tax> {
                &mut self.taxes
            }
            fn charges_mut(&mut self) -> &mut Vec<Charge> {
                &mut self.charges
            }
        }
    };
}

loop_line!(InvoiceLine);
loop_line!(OrderLine);

/// The line whose loop is being read, always the last of the document's lines. What its loop
/// keeps is collected here and moved into the line when the next one starts or the set ends,
/// so lines are pushed once and never moved.
#[derive(Debug, Default)]
pub struct OpenLine {
    ext: ExtBuilder,
    /// PID05 already gave the line its description; a later PID is kept.
    described: bool,
}

impl OpenLine {
    /// Closes the last of `lines` before the next line is pushed, and returns the builder the
    /// new line's kept elements go to.
    pub fn start<L: LoopLine>(&mut self, lines: &mut [L]) -> &mut ExtBuilder {
        self.close(lines);
        self.described = false;
        &mut self.ext
    }

    /// Moves what the loop kept into its line, the last of `lines`.
    pub fn close<L: LoopLine>(&mut self, lines: &mut [L]) {
        if let Some(l) = lines.last_mut() {
            std::mem::take(&mut self.ext).into_extensions(l.extensions_mut());
        }
    }

    /// Keeps `seg` with the open line.
    pub fn keep(&mut self, seg: &Fields<'_, '_>) {
        self.ext.keep(seg);
    }

    /// A segment of the loop that the set's own mapping did not take: the first PID05 is the
    /// description, TXI a tax, SAC a charge; anything else (or one of those the model cannot
    /// hold) is kept.
    pub fn segment<L: LoopLine>(
        &mut self,
        cx: &mut MapCx,
        seg: &Fields<'_, '_>,
        i: usize,
        lines: &mut [L],
    ) {
        let Some(line) = lines.last_mut() else {
            return;
        };
        match seg.id() {
            b"PID" if !self.described => match seg.trimmed(5) {
                Some(d) => {
                    *line.description_mut() = Some(d);
                    self.described = true;
                }
                None => self.keep(seg),
            },
            b"TXI" => match read_tax(cx, seg, i) {
                Some(tax) => line.taxes_mut().push(tax),
                None => self.keep(seg),
            },
            b"SAC" => match read_charge(cx, seg, i) {
                Some(c) => line.charges_mut().push(c),
                None => self.keep(seg),
            },
            _ => self.keep(seg),
        }
    }
}
