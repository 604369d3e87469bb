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

/// `P(Z >= z)` for a standard normal.
fn normal_upper_tail(z: f64) -> f64 {
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
    fn binomial_tail_matches_known_values() {
        // P(K >= 8 | n = 10, p = 0.5) = 56/1024
        assert!(close(binomial_upper_tail(8, 10, 0.5), 56.0 / 1024.0));
        assert_eq!(binomial_upper_tail(11, 10, 0.5), 0.0);
    }
}
