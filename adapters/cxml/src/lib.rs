//! cXML: InvoiceDetailRequest and OrderRequest both ways, Responses, hardened parsing.
