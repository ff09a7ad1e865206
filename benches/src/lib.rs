//! Generators of large inputs for the benchmarks, shared by the bench targets and the
//! profiling examples (so a callgrind run measures exactly the bytes criterion measures).

/// The allocator the `gateway` binary ships with, for our code and the baselines alike, when
/// the `shipped-allocator` feature asks for it (default: the system allocator).
#[cfg(feature = "shipped-allocator")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The partner the `x12` encode benches write to: the ids of [`x12_interchange`]'s envelope,
/// seen from the other side.
pub fn x12_bench_partner() -> anyhow::Result<gateway_core::PartnerProfile> {
    Ok(gateway_core::PartnerProfile::from_toml(
        "id = \"bench\"\n[x12]\npartner_qualifier = \"ZZ\"\npartner_id = \"ACMESUPPLY\"\n\
         partner_gs_id = \"ACME\"\nour_qualifier = \"ZZ\"\nour_id = \"GLOBEXCORP\"\n\
         our_gs_id = \"GLOBEX\"\nversion = \"004010\"\n",
        "bench.toml",
    )?)
}

/// One interchange with a group of `n` 810s and a group of `n` 850s, ten lines each.
pub fn x12_interchange(n: usize) -> Vec<u8> {
    let mut out = String::with_capacity(n * 2400);
    out.push_str("ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*GLOBEXCORP     *260315*1030*U*00401*000000042*0*P*>~\n");
    for (function, set_id) in [("IN", "810"), ("PO", "850")] {
        out.push_str(&format!(
            "GS*{function}*ACME*GLOBEX*20260315*1030*{set_id}*X*004010~\n"
        ));
        for k in 0..n {
            let ctl = format!("{:06}", k + 1);
            let mut segs: Vec<String> = Vec::with_capacity(40);
            segs.push(format!("ST*{set_id}*{ctl}"));
            if set_id == "810" {
                segs.push(format!("BIG*20260315*INV{k}*20260301*PO{k}"));
                segs.push("CUR*SE*USD".into());
            } else {
                segs.push(format!("BEG*00*SA*PO{k}**20260301"));
                segs.push("CUR*BY*USD".into());
            }
            segs.push(format!("REF*VN*SUP{}", k % 97));
            segs.push(format!("N1*SU*Acme Industrial Supply*92*SUP{}", k % 97));
            segs.push("N3*100 Factory Road*Building 4".into());
            segs.push("N4*Springfield*IL*62701*US".into());
            segs.push("N1*ST*Globex Warehouse 7".into());
            segs.push("N3*77 Dock Street".into());
            segs.push("N4*Cypress Creek*OR*97002*US".into());
            segs.push("ITD*01*3*2**10**30*****2% 10 Net 30".into());
            let mut total_cents: u64 = 0;
            for l in 1..=10u64 {
                let qty = (k as u64 % 7) + l;
                let cents = 1000 + l * 125;
                total_cents += qty * cents;
                let price = format!("{}.{:02}", cents / 100, cents % 100);
                if set_id == "810" {
                    segs.push(format!(
                        "IT1*{l}*{qty}*EA*{price}**VP*PART-{k}-{l}*BP*B{l}*PL*{l}"
                    ));
                    segs.push(format!(
                        "PID*F****Item {l} of invoice {k}, industrial grade"
                    ));
                } else {
                    segs.push(format!("PO1*{l}*{qty}*EA*{price}**VP*PART-{k}-{l}*BP*B{l}"));
                    segs.push(format!("PID*F****Item {l} of order {k}, industrial grade"));
                    segs.push("DTM*002*20260320".into());
                }
            }
            if set_id == "810" {
                segs.push(format!("TDS*{total_cents}"));
                segs.push("CTT*10".into());
            } else {
                segs.push("CTT*10".into());
                segs.push(format!(
                    "AMT*TT*{}.{:02}",
                    total_cents / 100,
                    total_cents % 100
                ));
            }
            let count = segs.len() + 1;
            for s in segs {
                out.push_str(&s);
                out.push_str("~\n");
            }
            out.push_str(&format!("SE*{count}*{ctl}~\n"));
        }
        out.push_str(&format!("GE*{n}*{set_id}~\n"));
    }
    out.push_str("IEA*2*000000042~\n");
    out.into_bytes()
}

/// A Coupa invoice import file with `n` invoices (4 lines and 2 charges each), for the `csv`
/// group.
pub fn csv_invoice_import(n: usize) -> Vec<u8> {
    let mut s = String::with_capacity(n * 480);
    s.push_str("Invoice,Invoice Number,Supplier Name,Supplier Number,Invoice Date,Currency,Payment Terms,Invoice Control Total\r\n");
    s.push_str("Invoice Line,Invoice Number,Supplier Name,Line Number,Description,Supplier Part Number,Price,Quantity,Unit of Measure,PO Number,PO Line Number\r\n");
    s.push_str("Invoice Charge,Invoice Number,Supplier Name,Type,Total\r\n");
    for i in 0..n {
        let day = i % 28 + 1;
        s.push_str(&format!(
            "Invoice,INV-{i:07},Acme Industrial Supply,SUP-001,2026-03-{day:02},USD,Net 30,210.00\r\n"
        ));
        for l in 1..=4 {
            s.push_str(&format!(
                "Invoice Line,INV-{i:07},Acme Industrial Supply,{l},\"Safety gloves, nitrile, size {l}\",GLV-{l:03},12.50,4,EA,PO-{i:06},{l}\r\n"
            ));
        }
        s.push_str(&format!(
            "Invoice Charge,INV-{i:07},Acme Industrial Supply,InvoiceShippingCharge,15.00\r\n"
        ));
        s.push_str(&format!(
            "Invoice Charge,INV-{i:07},Acme Industrial Supply,InvoiceMiscCharge,-5.00\r\n"
        ));
    }
    s.into_bytes()
}
