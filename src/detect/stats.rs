//! Upper-tail probabilities for the spike tests.

/// `P(X >= k)` for a negative binomial with mean `mean` and dispersion `phi`
/// (variance `mean + phi × mean²`); `phi = 0` is the Poisson distribution.
/// Computed from the lower tail by the pmf recurrence, in O(k).
pub fn count_upper_tail(k: u64, mean: f64, phi: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    let mean = mean.max(1e-9);
    // pmf(0) and the ratio pmf(j + 1) / pmf(j).
    let (mut pmf, r, p) = if phi <= 1e-9 {
        ((-mean).exp(), f64::INFINITY, 0.0)
    } else {
        let r = 1.0 / phi;
        let p = mean / (mean + r);
        ((r * (1.0 - p).ln()).exp(), r, p)
    };
    if pmf == 0.0 {
        // Underflow for large means: the normal approximation with continuity
        // correction is accurate there.
        let sd = (mean + phi * mean * mean).sqrt();
        return normal_upper_tail((k as f64 - 0.5 - mean) / sd);
    }
    let mut lower = 0.0;
    for j in 0..k {
        lower += pmf;
        let next = j as f64 + 1.0;
        pmf *= if r.is_infinite() {
            mean / next
        } else {
            (j as f64 + r) / next * p
        };
    }
    (1.0 - lower).clamp(0.0, 1.0)
}

/// `−log10 P(X >= k)` under the same distribution as [`count_upper_tail`],
/// accurate far into the tail, where `1 − P(X < k)` has long lost every
/// digit: real bursts reach tail probabilities of 1e-50 and beyond, and
/// calibration needs to tell them apart.
pub fn count_surprise(k: u64, mean: f64, phi: f64) -> f64 {
    if k == 0 {
        return 0.0;
    }
    let mean = mean.max(1e-9);
    let sd = (mean + phi.max(0.0) * mean * mean).sqrt();
    if (k as f64) < mean + 3.0 * sd {
        // Near the body the lower-tail sum is accurate and cheap.
        return -count_upper_tail(k, mean, phi).max(1e-300).log10();
    }
    // Sum the upper tail from k in log space: each term is the previous
    // times a ratio that falls below 1 past the mean, so the sum converges
    // geometrically; the rest past the last term is bounded by that ratio.
    let kf = k as f64;
    let poisson = phi <= 1e-9;
    let (r, p) = if poisson {
        (f64::INFINITY, 0.0)
    } else {
        (1.0 / phi, mean / (mean + 1.0 / phi))
    };
    let log_pmf = if poisson {
        kf * mean.ln() - mean - libm::lgamma(kf + 1.0)
    } else {
        libm::lgamma(kf + r) - libm::lgamma(r) - libm::lgamma(kf + 1.0) + r * (1.0 - p).ln() + kf * p.ln()
    };
    let ratio = |j: f64| {
        if poisson {
            mean / (j + 1.0)
        } else {
            (j + r) / (j + 1.0) * p
        }
    };
    let mut sum = 1.0;
    let mut term = 1.0;
    let mut j = k as f64;
    for _ in 0..10_000 {
        let q = ratio(j);
        term *= q;
        sum += term;
        j += 1.0;
        if term < 1e-12 * sum {
            break;
        }
        if q < 1.0 && term * q / (1.0 - q) < 1e-12 * sum {
            sum += term * q / (1.0 - q);
            break;
        }
    }
    let surprise = -(log_pmf + sum.ln()) / std::f64::consts::LN_10;
    surprise.max(0.0)
}

/// `−log10 P(K >= k)` for a binomial, accurate far into the tail (see
/// [`count_surprise`]).
pub fn binomial_surprise(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        return 0.0;
    }
    if k > n {
        return 300.0;
    }
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    let (nf, kf) = (n as f64, k as f64);
    if kf < nf * p + 3.0 * (nf * p * (1.0 - p)).sqrt() {
        return -binomial_upper_tail(k, n, p).max(1e-300).log10();
    }
    let log_pmf = libm::lgamma(nf + 1.0) - libm::lgamma(kf + 1.0) - libm::lgamma(nf - kf + 1.0)
        + kf * p.ln()
        + (nf - kf) * (1.0 - p).ln();
    let mut sum = 1.0;
    let mut term = 1.0;
    let mut j = k;
    while j < n {
        term *= (n - j) as f64 / (j as f64 + 1.0) * p / (1.0 - p);
        sum += term;
        j += 1;
        if term < 1e-12 * sum {
            break;
        }
    }
    (-(log_pmf + sum.ln()) / std::f64::consts::LN_10).max(0.0)
}

/// `P(X = 0)` under the same distribution as [`count_upper_tail`].
pub fn zero_probability(mean: f64, phi: f64) -> f64 {
    let mean = mean.max(0.0);
    if phi <= 1e-9 {
        (-mean).exp()
    } else {
        let r = 1.0 / phi;
        (r * (r / (r + mean)).ln()).exp()
    }
}

/// `P(X >= k)` for a binomial with `n` trials and success probability `p`.
pub fn binomial_upper_tail(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    let q = 1.0 - p;
    let mut pmf = q.powf(n as f64);
    if pmf == 0.0 {
        let sd = (n as f64 * p * q).sqrt();
        return normal_upper_tail((k as f64 - 0.5 - n as f64 * p) / sd);
    }
    let mut lower = 0.0;
    for j in 0..k {
        lower += pmf;
        pmf *= (n - j) as f64 / (j as f64 + 1.0) * p / q;
    }
    (1.0 - lower).clamp(0.0, 1.0)
}

/// The z with `P(Z >= z) = 10^−surprise` for a standard normal (Abramowitz
/// and Stegun 26.2.23, error below 4.5e-4): a tail probability on a scale
/// that grows like a count's excess in standard deviations, not like its
/// square, so that calibration is not thrown by bursts of 1e-200.
pub fn z_of_surprise(surprise: f64) -> f64 {
    if surprise.is_nan() || surprise <= std::f64::consts::LOG10_2 {
        return 0.0;
    }
    let t = (2.0 * std::f64::consts::LN_10 * surprise.min(1e6)).sqrt();
    t - (2.515_517 + 0.802_853 * t + 0.010_328 * t * t)
        / (1.0 + 1.432_788 * t + 0.189_269 * t * t + 0.001_308 * t * t * t)
}

/// `P(Z >= z)` for a standard normal.
pub fn normal_upper_tail(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Complementary error function (Numerical Recipes' Chebyshev fit, relative
/// error below 1.2e-7 everywhere).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 + 1e-6 * b.abs()
    }

    #[test]
    fn poisson_tail_matches_known_values() {
        // P(X >= 10 | λ = 3) = 0.0011024...
        assert!(
            close(count_upper_tail(10, 3.0, 0.0), 0.001_102_488_9),
            "{}",
            count_upper_tail(10, 3.0, 0.0)
        );
        assert_eq!(count_upper_tail(0, 3.0, 0.0), 1.0);
        assert!(close(count_upper_tail(1, 2.0, 0.0), 1.0 - (-2.0f64).exp()));
    }

    #[test]
    fn overdispersion_fattens_the_tail() {
        let poisson = count_upper_tail(20, 5.0, 0.0);
        let nb = count_upper_tail(20, 5.0, 0.5);
        assert!(nb > poisson * 10.0, "{nb} vs {poisson}");
        // Geometric (r = 1): P(X >= k) = p^k with p = mean / (mean + 1).
        let p: f64 = 4.0 / 5.0;
        assert!(close(count_upper_tail(6, 4.0, 1.0), p.powi(6)));
    }

    #[test]
    fn large_means_do_not_underflow() {
        let t = count_upper_tail(12_000, 10_000.0, 0.0);
        assert!(t < 1e-20, "{t}");
        assert!(count_upper_tail(10_000, 10_000.0, 0.0) > 0.4);
    }

    #[test]
    fn surprise_agrees_with_the_tail_where_both_are_accurate_and_goes_on_past_it() {
        for (k, mean, phi) in [(10, 3.0, 0.0), (20, 5.0, 0.5), (40, 10.0, 0.1), (25, 4.0, 0.0)] {
            let direct = -count_upper_tail(k, mean, phi).log10();
            let surprise = count_surprise(k, mean, phi);
            assert!(
                (direct - surprise).abs() < 1e-4 * direct.max(1.0),
                "{k} {mean} {phi}: {direct} vs {surprise}"
            );
        }
        // P(X >= 100 | λ = 3) = 2.8e-112 (almost all of it pmf(100) = 3^100 e^-3 / 100!): far below what 1 − lower can hold.
        assert_eq!(count_upper_tail(100, 3.0, 0.0), 0.0);
        let s = count_surprise(100, 3.0, 0.0);
        assert!((s - 111.556).abs() < 0.01, "{s}");
        // More surprise for more mentions, whatever the dispersion.
        assert!(count_surprise(200, 3.0, 0.3) > count_surprise(100, 3.0, 0.3));
        let b = binomial_surprise(90, 100, 0.25);
        assert!(b > 30.0 && b.is_finite(), "{b}");
        assert!((binomial_surprise(8, 10, 0.5) + (56.0f64 / 1024.0).log10()).abs() < 1e-9);
    }

    #[test]
    fn binomial_tail_matches_known_values() {
        // P(K >= 8 | n = 10, p = 0.5) = 56/1024
        assert!(close(binomial_upper_tail(8, 10, 0.5), 56.0 / 1024.0));
        assert_eq!(binomial_upper_tail(11, 10, 0.5), 0.0);
    }
}
