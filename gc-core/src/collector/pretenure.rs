//! Pretenuring: allocation sites whose objects survive their first minor collection allocate
//! straight into the old generation.
//!
//! A program that builds long-lived data (a table filled at start-up, a cache whose entries
//! live for many collections) pays for each such object twice in a copying nursery: once to
//! allocate it, once to copy it out at the next minor collection, with the minor pause
//! proportional to it. Where that is the rule for an allocation site, the site's objects are
//! placed in the old generation at once, as HotSpot and V8 do for their allocation sites.
//!
//! **Sites.** A site is the `#[track_caller]` location of the allocation (the same one the
//! leak-debug mode records): every allocation method of [`Mutation`](crate::Mutation) takes it
//! for free, as a constant passed by the caller. A VM that allocates through one helper gets
//! one site for all its objects unless its helpers are `#[track_caller]` too, or separate per
//! object kind.
//!
//! **Feedback without a fast-path cost.** The allocation fast path compares against the
//! nursery's `limit`. Pretenuring lowers that limit to the next *sample point*, every
//! 1/[`SAMPLES_PER_NURSERY`] of the nursery's size, so that one allocation in that many bytes
//! takes the slow path, which notes its address and site. Each minor collection then reads
//! whether the sampled objects were copied (their header is a forwarding word) and keeps, per
//! site, the survival of its samples, counting only samples that lived through at least a
//! sixteenth of a nursery's worth of allocation (right after its allocation nearly every
//! object is alive; an early collection, such as a full one, would count the youngest as
//! survivors). A site whose sampled survival is at least [`TENURE_RATE`] in [`TENURE_STREAK`]
//! windows in a row, of at least [`MIN_SAMPLES`] samples each, is *tenured*.
//!
//! **Tenured sites.** The fast path also tests the site's bit in a 64-bit filter of tenured
//! sites (a hash of the line and column, so a constant mask for an inlined allocation: one
//! `test` of a word next to the cursor). A tenured site's allocations take the slow path,
//! which checks the site exactly, and go to the old generation; those that may point at
//! nursery objects (their type has pointers) are recorded in ranges that the next minor
//! collection scans, as for objects placed there when the nursery is full. Other sites keep
//! the fast path.
//!
//! **Trials.** Once a tenured site has allocated [`TRIAL_NURSERIES`] nursery sizes, it goes
//! back to the nursery for a trial: the next minor collection comes after an eighth of a
//! nursery (so a trial of a site whose objects all survive copies little), its samples are
//! measured again, and high survival tenures it again. A site whose objects stopped surviving
//! (the program's phase changed) stays in the nursery, and one that allocated nothing since
//! the last collection is untenured at once. So that trials come in bounded time, a minor
//! collection is due once tenured sites have allocated [`REVIEW_NURSERIES`] nursery sizes
//! since the last one (it finds a nearly empty nursery and is cheap). Survival is measured in
//! the nursery rather than among the tenured objects: a minor collection scans the tenured
//! objects (and remembered ones) as roots, dead or alive, so the nursery objects they point
//! at would all look like survivors.
//!
//! What it costs when wrong: a site tenured at the end of a phase puts at most about
//! `TRIAL_NURSERIES` nurseries of short-lived objects into the old generation before a trial
//! untenures it; the next full collection reclaims them. A trial of a site that should stay
//! tenured copies at most an eighth of a nursery of its objects in every `TRIAL_NURSERIES`.

use std::panic::Location;

use crate::identity::AddrMap;
use crate::raw::{ObjPtr, FORWARDED};

/// Samples per nursery size (for nurseries of 256 KiB to 4 MiB; the interval is at least
/// 1 KiB and at most 16 KiB).
const SAMPLES_PER_NURSERY: usize = 256;
/// Nursery sizes of a tenured site's allocation between two trials.
const TRIAL_NURSERIES: usize = 16;
/// Samples a site needs for its survival to count (accumulated over collections if need be).
const MIN_SAMPLES: u32 = 16;
/// Survival of a site's samples that tenures it...
const TENURE_RATE: f64 = 0.9;
/// ... when seen in this many minor collections in a row.
const TENURE_STREAK: u32 = 2;
/// Nursery sizes of tenured allocation after which a minor collection reviews the decisions.
const REVIEW_NURSERIES: usize = 4;

/// A site's bit in the fast path's filter: a tenured site's allocations, and those of any
/// site with the same bit, leave the fast path. It hashes the line and column, not the
/// location's address, so that for an inlined allocation it is a constant: the fast path tests
/// one word against a constant mask.
#[inline(always)]
pub(crate) fn site_bit(location: &Location<'_>) -> u64 {
    let hash =
        (location.line().wrapping_mul(0x9e37_79b9) ^ location.column()).wrapping_mul(0x85eb_ca6b);
    1 << (hash >> 26)
}

/// Where an allocation goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// To the nursery; `sample` if its survival is to be measured.
    Nursery { sample: bool },
    /// To the old generation: its site is tenured.
    Old,
}

#[derive(Debug)]
struct Site {
    location: &'static Location<'static>,
    tenured: bool,
    /// Consecutive collections with high survival.
    streak: u32,
    /// This collection's samples, and how many of them survived.
    samples: u32,
    survived: u32,
    /// Bytes allocated in the old generation since the last review (tenured sites), and
    /// since the site was tenured or had its last trial.
    tenured_bytes: usize,
    since_trial: usize,
}

/// The allocation sites seen by the sampler and their decisions.
#[derive(Debug)]
pub(crate) struct Pretenuring {
    enabled: bool,
    /// Testing mode: every site starts tenured, and each minor collection moves tenured sites
    /// to a trial and trial sites back to tenured, whatever their survival.
    everything: bool,
    /// Site by location address.
    index: AddrMap<u32>,
    sites: Vec<Site>,
    /// The last site routed, and its index: allocations come in runs from one site.
    last: (usize, u32),
    /// Sampled nursery objects since the last minor collection, with their site and the
    /// allocation clock when they were allocated.
    samples: Vec<(ObjPtr, u32, usize)>,
    /// The nursery's size, the unit of the ages, trials and reviews.
    nursery_size: usize,
    /// The nursery address from which the next allocation is sampled.
    next_sample: usize,
    /// Mean bytes between samples.
    interval: usize,
    /// State of the generator that spreads sample points (xorshift64): fixed intervals would
    /// alias with a program that allocates in a fixed pattern, and sample the same kind of
    /// object every time.
    rng: u64,
    /// Bytes of tenured allocation since the last minor collection.
    tenured_bytes: usize,
    /// Sites tenured now, and on trial.
    tenured_sites: usize,
    trials: usize,
}

impl Pretenuring {
    pub(crate) fn new(
        enabled: bool,
        everything: bool,
        nursery_start: usize,
        nursery_size: usize,
    ) -> Self {
        let interval = (nursery_size / SAMPLES_PER_NURSERY).clamp(1 << 10, 16 << 10);
        Pretenuring {
            everything: enabled && everything,
            interval,
            rng: 0x9e37_79b9_7f4a_7c15,
            nursery_size,
            enabled,
            index: AddrMap::default(),
            sites: Vec::new(),
            last: (0, u32::MAX),
            samples: Vec::new(),
            next_sample: nursery_start + interval,
            tenured_bytes: 0,
            tenured_sites: 0,
            trials: 0,
        }
    }

    /// The cap on the nursery's fast-path limit: the next sample point, or no cap when
    /// pretenuring is off.
    pub(crate) fn limit_cap(&self) -> usize {
        if self.enabled {
            self.next_sample
        } else {
            usize::MAX
        }
    }

    /// The fast path's filter: the union of the tenured sites' [`site_bit`]s (every bit in
    /// the testing mode, so that new sites are seen).
    pub(crate) fn filter(&self) -> u64 {
        if self.everything {
            return u64::MAX;
        }
        self.sites
            .iter()
            .filter(|site| site.tenured)
            .fold(0, |bits, site| bits | site_bit(site.location))
    }

    fn site(&mut self, location: &'static Location<'static>) -> u32 {
        let key = location as *const _ as usize;
        if self.last.0 == key {
            return self.last.1;
        }
        let next = self.sites.len() as u32;
        let index = *self.index.entry(key).or_insert(next);
        if index == next {
            self.sites.push(Site {
                location,
                tenured: self.everything,
                streak: 0,
                samples: 0,
                survived: 0,
                tenured_bytes: 0,
                since_trial: 0,
            });
        }
        self.last = (key, index);
        index
    }

    /// Where an allocation of `size` bytes from `site` goes, the nursery's cursor being at
    /// `cursor`. Returns the site's index with the route.
    #[inline]
    pub(crate) fn route(
        &mut self,
        site: &'static Location<'static>,
        size: usize,
        cursor: usize,
    ) -> (u32, Route) {
        let index = self.site(site);
        let entry = &mut self.sites[index as usize];
        if entry.tenured {
            entry.tenured_bytes += size;
            self.tenured_bytes += size;
            return (index, Route::Old);
        }
        (index, Route::Nursery { sample: self.enabled && cursor + size > self.next_sample })
    }

    /// Notes a sampled nursery object, the cursor now being at `cursor`, `used` bytes into
    /// the nursery.
    pub(crate) fn sampled(&mut self, obj: ObjPtr, site: u32, cursor: usize, used: usize) {
        self.samples.push((obj, site, used + self.tenured_bytes));
        self.next_sample = cursor + self.next_interval();
    }

    /// Bytes to the next sample point: uniform in [interval / 2, 3 × interval / 2).
    fn next_interval(&mut self) -> usize {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.interval / 2 + (self.rng % self.interval as u64) as usize
    }

    /// Whether a minor collection is due for pretenuring's sake, `nursery_used` bytes of the
    /// nursery being in use: tenured allocation since the last one, or a trial.
    pub(crate) fn review_due(&self, nursery_used: usize) -> bool {
        self.tenured_bytes >= REVIEW_NURSERIES * self.nursery_size
            || (self.trials > 0 && nursery_used >= self.nursery_size / 8)
    }

    /// Sites tenured now.
    pub(crate) fn tenured_sites(&self) -> usize {
        self.tenured_sites
    }

    /// After a minor collection has copied the survivors and before the nursery is emptied
    /// (`nursery_used` bytes of it in use): reads the samples' survival and revises the
    /// decisions.
    ///
    /// Samples younger than a sixteenth of a nursery's worth of allocation are not counted:
    /// nearly every object is alive right after its allocation.
    ///
    /// # Safety
    /// Every sample is an object allocated in the nursery since the previous review, and the
    /// nursery has not been reset since: each header is its type or, if the object was copied,
    /// a forwarding word.
    pub(crate) unsafe fn review(&mut self, nursery_start: usize, nursery_used: usize) {
        let now = nursery_used + self.tenured_bytes;
        for &(obj, site, born) in &self.samples {
            if now - born < self.nursery_size / 16 {
                continue;
            }
            // SAFETY: precondition.
            let survived = unsafe { obj.header() } & FORWARDED != 0;
            let site = &mut self.sites[site as usize];
            site.samples += 1;
            site.survived += survived as u32;
        }
        self.samples.clear();
        let (mut tenured, mut trials) = (0, 0);
        for site in &mut self.sites {
            if self.everything {
                site.tenured = !site.tenured;
            } else if site.tenured {
                site.since_trial += site.tenured_bytes;
                if site.tenured_bytes == 0 {
                    site.tenured = false;
                    site.streak = 0;
                } else if site.since_trial >= TRIAL_NURSERIES * self.nursery_size {
                    // One collection with high survival tenures it again.
                    site.tenured = false;
                    site.streak = TENURE_STREAK - 1;
                    site.samples = 0;
                    site.survived = 0;
                    trials += 1;
                }
                site.tenured_bytes = 0;
            } else if site.samples >= MIN_SAMPLES {
                // A site with few samples per collection accumulates them over several. A
                // trial lasts one collection: with too few samples, the site's next
                // collections decide as for any site.
                let rate = site.survived as f64 / site.samples as f64;
                site.streak = if rate >= TENURE_RATE { site.streak + 1 } else { 0 };
                site.tenured = site.streak >= TENURE_STREAK;
                site.since_trial = 0;
                site.samples = 0;
                site.survived = 0;
            }
            tenured += site.tenured as usize;
        }
        self.trials = trials;
        self.tenured_sites = tenured;
        self.tenured_bytes = 0;
        self.next_sample = nursery_start + self.next_interval();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn here() -> &'static Location<'static> {
        Location::caller()
    }

    #[test]
    fn untenured_sites_are_sampled_once_per_interval() {
        let (a, b) = (here(), here());
        let mut p = Pretenuring::new(true, false, 0, 4 << 20);
        assert_eq!(p.limit_cap(), 16 << 10);
        assert_eq!(p.route(a, 64, 0), (0, Route::Nursery { sample: false }));
        assert_eq!(p.route(a, 64, (16 << 10) - 32), (0, Route::Nursery { sample: true }));
        assert_eq!(p.route(b, 64, 0), (1, Route::Nursery { sample: false }));
        assert_eq!(p.filter(), 0);
    }

    #[test]
    fn pretenuring_off_never_samples_and_caps_nothing() {
        let mut p = Pretenuring::new(false, false, 0, 4 << 20);
        assert_eq!(p.limit_cap(), usize::MAX);
        assert_eq!(p.route(here(), 64, 16 << 10), (0, Route::Nursery { sample: false }));
    }

    #[test]
    fn a_sample_is_taken_where_an_allocation_crosses_the_sample_point() {
        let mut p = Pretenuring::new(true, false, 0, 4 << 20);
        // The first sample point is at 16 KiB: an allocation of 64 bytes at 300 does not
        // reach it, nor one of 2 KiB at 10 KiB; one that ends past it does.
        assert_eq!(p.route(here(), 64, 300), (0, Route::Nursery { sample: false }));
        assert_eq!(p.route(here(), 2048, 10 << 10), (1, Route::Nursery { sample: false }));
        assert_eq!(p.route(here(), 2048, 15 << 10), (2, Route::Nursery { sample: true }));
    }

    #[test]
    fn sample_intervals_are_jittered_over_half_to_one_and_a_half_intervals() {
        let mut p = Pretenuring::new(true, false, 0, 4 << 20);
        let interval = p.interval;
        let draws: Vec<usize> = (0..200).map(|_| p.next_interval()).collect();
        assert!(draws.iter().all(|&d| d >= interval / 2 && d < interval * 3 / 2), "{draws:?}");
        let distinct: std::collections::BTreeSet<_> = draws.iter().collect();
        assert!(distinct.len() > 190, "{} distinct of 200", distinct.len());
        let (low, high) = (draws.iter().min().unwrap(), draws.iter().max().unwrap());
        assert!(*low < interval * 6 / 10 && *high > interval * 14 / 10, "{low} {high}");
    }

    #[test]
    fn a_review_is_due_after_tenured_allocation_or_during_a_trial() {
        let nursery = 4 << 20;
        let mut p = Pretenuring::new(true, false, 0, nursery);
        assert!(!p.review_due(nursery / 4), "nothing tenured, no trial");
        p.tenured_bytes = REVIEW_NURSERIES * nursery - 1;
        assert!(!p.review_due(0));
        p.tenured_bytes += 1;
        assert!(p.review_due(0));
        p.tenured_bytes = 0;
        p.trials = 1;
        assert!(!p.review_due(nursery / 8 - 1));
        assert!(p.review_due(nursery / 8));
    }

    #[test]
    fn the_filter_is_the_union_of_the_tenured_sites_bits() {
        // 65 sites for 64 bits: some share a bit (the fast path then sends both to the slow
        // path, which tells them apart).
        let sites = [
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
            here(),
        ];
        let mut p = Pretenuring::new(true, false, 0, 4 << 20);
        for site in sites {
            p.route(site, 64, 0);
        }
        let bits: std::collections::BTreeSet<u64> = sites.iter().map(|s| site_bit(s)).collect();
        assert!(bits.len() > 32, "the sites' bits spread: {} distinct", bits.len());
        assert!(bits.iter().all(|b| b.count_ones() == 1));
        for site in &mut p.sites {
            site.tenured = true;
        }
        assert_eq!(p.filter(), bits.iter().fold(0, |all, b| all | b));
        assert_eq!(p.filter().count_ones() as usize, bits.len());
    }
}
