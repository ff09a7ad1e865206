use adapter_x12::Parallelism;
use std::hint::black_box;
use std::time::Instant;
fn main() {
    let input = gateway_benches::x12_interchange(4000);
    let text = std::str::from_utf8(&input).unwrap();
    let threads: usize = std::env::var("T")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(2);
    let par = Parallelism { threads, batch: 32 };
    if let Some(mode) = std::env::args().nth(1) {
        for _ in 0..30 {
            if mode == "stream" {
                let mut n = 0;
                let mut r = std::io::BufReader::new(black_box(&input[..]));
                adapter_x12::decode_stream_with(&mut r, 1 << 26, par, &mut |i| {
                    n += 1;
                    drop(black_box(i))
                })
                .unwrap();
            } else {
                let d = adapter_x12::decode_all_with(black_box(&input), par);
                black_box(d.documents.len());
            }
        }
        return;
    }
    for round in 0..3 {
        let t = Instant::now();
        for _ in 0..10 {
            let d = adapter_x12::decode_all_with(black_box(&input), Parallelism::sequential());
            black_box(d.documents.len());
        }
        let a = t.elapsed() / 10;
        let t = Instant::now();
        for _ in 0..10 {
            let d = adapter_x12::decode_all_with(black_box(&input), par);
            assert_eq!(d.documents.len(), 8000);
        }
        let b = t.elapsed() / 10;
        let t = Instant::now();
        for _ in 0..10 {
            let mut n = 0;
            let mut r = std::io::BufReader::new(black_box(&input[..]));
            adapter_x12::decode_stream_with(&mut r, 1 << 26, Parallelism::sequential(), &mut |i| {
                n += 1;
                drop(black_box(i))
            })
            .unwrap();
            black_box(n);
        }
        let c = t.elapsed() / 10;
        let t = Instant::now();
        for _ in 0..10 {
            let mut n = 0;
            let mut r = std::io::BufReader::new(black_box(&input[..]));
            adapter_x12::decode_stream_with(&mut r, 1 << 26, par, &mut |i| {
                n += 1;
                drop(black_box(i))
            })
            .unwrap();
            assert_eq!(n, 8000);
        }
        let d = t.elapsed() / 10;
        let t = Instant::now();
        for _ in 0..10 {
            black_box(
                edi::parse(black_box(text))
                    .map(|d| d.interchanges.len())
                    .ok(),
            );
        }
        let e = t.elapsed() / 10;
        println!("round {round}: all seq {a:?} par {b:?} | stream seq {c:?} par {d:?} | edi {e:?}");
    }
}
