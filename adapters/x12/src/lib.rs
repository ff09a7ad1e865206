//! EDI X12: streaming tokenizer, envelopes, 810/850 mapping, 997/999/TA1 acknowledgments.
