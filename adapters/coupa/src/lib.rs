//! Coupa Core API client: OAuth2, invoices, purchase orders, suppliers, duplicate guard.
