//! A Coupa API emulator with fault injection, and a test supplier endpoint.
