//! Shards: `--shard K/N` takes the pairs whose index (`point × seeds + seed`) is `K`
//! modulo `N` (0-based, interleaved, so every shard gets a share of every part of the
//! grid); `--shard auto` reads a Kubernetes Indexed Job or a Slurm job array.

/// The K-th (0-based) of N shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Whether pair number `i` is this shard's.
    pub fn has(&self, i: usize) -> bool {
        i as u64 % self.count == self.index
    }
}

/// Parses `K/N` (0 ≤ K < N).
pub fn parse_shard(s: &str) -> Result<Shard, String> {
    let bad = || format!("--shard {s}: expected K/N with 0 <= K < N (0-based, e.g. 0/3, 1/3, 2/3) or `auto`");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (index, count): (u64, u64) =
        (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if count == 0 || index >= count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

/// `--shard auto`: the shard from the environment `env` reads (`std::env::var` in the
/// CLI). Kubernetes Indexed Jobs set `JOB_COMPLETION_INDEX` (0-based; the count is not
/// in the environment, so `shards` must be given: the Job's `completions`). Slurm job
/// arrays set `SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_MIN` and
/// `SLURM_ARRAY_TASK_COUNT`: the shard is `ID − MIN` of `COUNT` (an array with a step
/// other than 1 is refused, since its ids are not consecutive).
pub fn shard_from_env(env: &dyn Fn(&str) -> Option<String>, shards: Option<u64>) -> Result<Shard, String> {
    let num = |name: &str| -> Result<Option<u64>, String> {
        match env(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| format!("--shard auto: {name}={v:?} is not a non-negative integer")),
        }
    };
    let k8s = num("JOB_COMPLETION_INDEX")?;
    let slurm = num("SLURM_ARRAY_TASK_ID")?;
    match (k8s, slurm) {
        (Some(_), Some(_)) => {
            Err("--shard auto: both JOB_COMPLETION_INDEX (Kubernetes) and SLURM_ARRAY_TASK_ID \
                                   (Slurm) are set; give --shard K/N instead"
                .into())
        }
        (Some(index), None) => {
            let Some(count) = shards else {
                return Err(
                    "--shard auto: JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but not the \
                            number of shards: give --shards N (the Job's completions)"
                        .into(),
                );
            };
            if count == 0 || index >= count {
                return Err(format!(
                    "--shard auto: JOB_COMPLETION_INDEX={index} is not below --shards {count} (the Job's \
                     completions must equal --shards)"
                ));
            }
            Ok(Shard { index, count })
        }
        (None, Some(id)) => {
            let min = num("SLURM_ARRAY_TASK_MIN")?
                .ok_or("--shard auto: SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_MIN")?;
            let count = num("SLURM_ARRAY_TASK_COUNT")?
                .ok_or("--shard auto: SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT")?;
            if let Some(step) = num("SLURM_ARRAY_TASK_STEP")?
                && step != 1
            {
                return Err(format!(
                    "--shard auto: the job array has step {step}; give it consecutive ids (--array=0-{})",
                    count.saturating_sub(1)
                ));
            }
            let index = id.checked_sub(min).ok_or_else(|| {
                format!("--shard auto: SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}")
            })?;
            if count == 0 || index >= count {
                return Err(format!(
                    "--shard auto: SLURM_ARRAY_TASK_ID={id} − SLURM_ARRAY_TASK_MIN={min} is not below \
                     SLURM_ARRAY_TASK_COUNT={count} (an array with gaps? give --array=MIN-MAX)"
                ));
            }
            if let Some(n) = shards
                && n != count
            {
                return Err(format!(
                    "--shard auto: --shards {n} differs from SLURM_ARRAY_TASK_COUNT={count}"
                ));
            }
            Ok(Shard { index, count })
        }
        (None, None) => Err("--shard auto: neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor \
                             SLURM_ARRAY_TASK_ID (Slurm job array) is set; give --shard K/N"
            .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn shards() {
        assert_eq!(parse_shard("1/3"), Ok(Shard { index: 1, count: 3 }));
        assert!(parse_shard("3/3").is_err() && parse_shard("0/0").is_err() && parse_shard("x").is_err());
        assert_eq!(
            shard_from_env(&env(&[("JOB_COMPLETION_INDEX", "2")]), Some(3)),
            Ok(Shard { index: 2, count: 3 })
        );
        assert!(shard_from_env(&env(&[("JOB_COMPLETION_INDEX", "2")]), None).is_err());
        assert!(shard_from_env(&env(&[("JOB_COMPLETION_INDEX", "3")]), Some(3)).is_err());
        let s =
            [("SLURM_ARRAY_TASK_ID", "6"), ("SLURM_ARRAY_TASK_MIN", "5"), ("SLURM_ARRAY_TASK_COUNT", "3")];
        assert_eq!(shard_from_env(&env(&s), None), Ok(Shard { index: 1, count: 3 }));
        assert!(shard_from_env(&env(&s[..2]), None).is_err());
        assert!(shard_from_env(&env(&[]), Some(3)).is_err());
    }
}
