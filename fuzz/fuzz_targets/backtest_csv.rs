//! Any bytes as a backtest CSV: rows or rejections, bounded memory.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config = complaint_monitor::detect::DetectConfig::default();
    let mut input = data;
    let _ = complaint_monitor::detect::backtest::read_csv(&mut input, &config);
});
