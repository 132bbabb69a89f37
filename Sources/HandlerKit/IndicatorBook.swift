/// Indicators kept incrementally at district and city scope, and judged against the plans:
/// a city is the sum of its districts' numerators and denominators, never an average of
/// ratios; an update is published only when the value, the target or the status changes.
///
/// Keep an `IndicatorBook` in your handler's state. As events arrive:
/// - ``add(_:kind:district:numerator:denominator:subject:cause:late:)`` moves a *level* (the
///   state now: pupils enrolled, classes oversized, cases open);
/// - ``record(_:district:amount:on:facets:plans:subject:cause:late:)`` counts a *flow* (a
///   thing that happened on a date: a project completed, seats added), with the facets plan
///   targets may filter on (`category`, `work`, `ownership`).
///
/// Then call ``flush(now:plans:manifest:tick:)`` once per event and on every tick. It
/// publishes what changed, and judges every plan target (DOMAIN.md "What a verdict means"):
/// only inside its period; a flow counts what happened in the period, by event time, that
/// the target's filter lets through; a level is judged from its baseline (the plan's, or the
/// value when the period starts), once the first day of data in the period is over; on a tick every target is judged again, so one that nothing
/// happens to still goes `atRisk` and `offTrack`; after the deadline the verdict is final.
///
/// Every delta can say whose it is (`subject`) and which event caused it (`cause`): the book
/// keeps each subject's share of every district value, so ``explain(_:region:)`` lists what
/// makes up a value (`planwatch explain`), and each update carries the ids of the events that
/// last changed it. A delta from an event that arrived late (`late: true`) makes the next
/// update a revision (`revision` counts them).
public struct IndicatorBook: Codable, Sendable, Equatable {
    /// How a value is computed (``IndicatorSpec/Kind``).
    public typealias Kind = IndicatorSpec.Kind

    /// An indicator's value at one region, as its events made it.
    struct Entry: Codable, Sendable, Equatable {
        var indicator: String
        var region: RegionCode
        var kind: Kind
        var numerator: Int64 = 0
        var denominator: Int64 = 0
        /// The day (number) it last changed, to tell whether a value predates a plan period.
        var changedOn: Int = .min
        /// Changed since the last flush (which dates the change).
        var changed = false

        init(indicator: String, region: RegionCode, kind: Kind) {
            self.indicator = indicator
            self.region = region
            self.kind = kind
        }

        var value: Double? {
            switch kind {
            case .count: Double(numerator)
            case .ratio: denominator > 0 ? Double(numerator) / Double(denominator) : nil
            }
        }
    }

    /// What was last published on one topic (`indicator.<series>.<region>`).
    struct Published: Codable, Sendable, Equatable {
        var value: Double?
        var status: TargetStatus?
        var target: String?
        var revision: Int64 = 0
        /// Events that changed it since it was last published; whether one came late.
        var causes: [String] = []
        var late = false
        var everPublished = false
        /// Whether the last update published was after its target's deadline (the verdict of
        /// record): the first tick past the deadline publishes it even if nothing else changed.
        var final: Bool?
    }

    /// A level target's baseline at one region: fixed once known.
    struct Baseline: Codable, Sendable, Equatable {
        var value: Double
        /// The day it was taken; it is fixed once that day has passed.
        var day: Int
        var fixed: Bool
    }

    /// A status change published on a flush, for rules such as `projects.target_at_risk`.
    public struct StatusChange: Sendable, Equatable {
        /// The series (the indicator, or a target's own name for a filtered count).
        public var indicator: String
        /// The district or city.
        public var region: RegionCode
        /// The status published before (nil: none).
        public var from: TargetStatus?
        /// The status now (nil: no target, or nothing to judge).
        public var to: TargetStatus?
        /// The update being published with it.
        public var update: IndicatorUpdate
        /// The target it is judged against, and the plan's own words for it.
        public var target: PlanTarget?
    }

    private var entries: [String: Entry] = [:]
    private var published: [String: Published] = [:]
    /// Things counted for each target at each region: `target key|region` → count.
    private var counted: [String: Int64] = [:]
    private var baselines: [String: Baseline] = [:]
    /// Verdicts of targets whose deadline passed: `target key|region`.
    private var finals: [String: TargetStatus] = [:]
    /// Topics (`series|region`) to publish at the next flush.
    private var dirty: Set<String> = []
    /// A subject's share of an indicator at the region it was added at.
    struct Share: Codable, Sendable, Equatable {
        var numerator: Int64 = 0
        var denominator: Int64 = 0
        /// The events that last changed it, oldest first (at most ``IndicatorContribution/eventsKept``).
        var events: [String] = []
    }

    /// Each subject's shares, by subject, then `indicator|region`: a checkpoint writes the
    /// subjects whose shares changed, each subject's shares in one row (an incident counted in
    /// three indicators was three rows).
    private var shares = SubjectMap<[String: Share]>()
    static let causesKept = 20

    /// An empty book.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case entries, published, counted, baselines, finals, dirty, shares
        /// Where the shares were before 0.19: by indicator, then region, then subject.
        case parts
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        entries = try c.decode([String: Entry].self, forKey: .entries)
        // Checkpoints written before targets were judged by period: published from scratch.
        published = try c.decodeIfPresent([String: Published].self, forKey: .published) ?? [:]
        counted = try c.decodeIfPresent([String: Int64].self, forKey: .counted) ?? [:]
        baselines = try c.decodeIfPresent([String: Baseline].self, forKey: .baselines) ?? [:]
        finals = try c.decodeIfPresent([String: TargetStatus].self, forKey: .finals) ?? [:]
        dirty = try c.decode(Set<String>.self, forKey: .dirty)
        if let parts = try c.decodeIfPresent([String: [String: SubjectMap<IndicatorContribution>]].self, forKey: .parts) {
            for (indicator, regions) in parts {
                for (code, subjects) in regions {
                    for (subject, part) in subjects {
                        shares[subject, default: [:]][indicator + "|" + code] = Share(
                            numerator: part.numerator, denominator: part.denominator, events: part.events)
                    }
                }
            }
            // Its rows are by indicator and region: the next checkpoint writes the book whole
            // (when there were any: an older book always wrote `parts`, `{}` when empty).
            if !shares.isEmpty { (decoder.userInfo[.planwatchSubjects] as? SubjectSource)?.rewriteAll() }
        } else {
            shares = try c.decodeIfPresent(SubjectMap<[String: Share]>.self, forKey: .shares) ?? SubjectMap()
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(entries, forKey: .entries)
        try c.encode(published, forKey: .published)
        try c.encode(counted, forKey: .counted)
        try c.encode(baselines, forKey: .baselines)
        try c.encode(finals, forKey: .finals)
        try c.encode(dirty, forKey: .dirty)
        try c.encode(shares, forKey: .shares)
    }

    private static func key(_ indicator: String, _ region: RegionCode) -> String { "\(indicator)|\(region.code)" }

    // MARK: Levels and flows

    /// Moves a level of `district` (and so of its city) by the given deltas, on behalf of
    /// `subject` (whose share ``explain(_:region:)`` lists) because of event `cause`.
    /// `late`: the event arrived after later ones of the same subject; the update is a revision.
    public mutating func add(
        _ indicator: String, kind: Kind, district: RegionCode, numerator: Int64 = 0, denominator: Int64 = 0, subject: String? = nil,
        cause: String? = nil, late: Bool = false
    ) {
        let regions = district.isDistrict ? [district, district.city] : [district]
        for region in regions {
            move(indicator, kind: kind, region: region, numerator: numerator, denominator: denominator, cause: cause, late: late)
        }
        if let subject { attribute(indicator, region: district, subject: subject, numerator: numerator, denominator: denominator, cause: cause) }
    }

    /// Moves an indicator of exactly `region` (a district, a city or a province) by the given
    /// deltas, and of no other region: for values that arrive already summed, such as the
    /// city totals a province rolls up.
    public mutating func add(
        _ indicator: String, kind: Kind, only region: RegionCode, numerator: Int64 = 0, denominator: Int64 = 0, subject: String? = nil,
        cause: String? = nil, late: Bool = false
    ) {
        move(indicator, kind: kind, region: region, numerator: numerator, denominator: denominator, cause: cause, late: late)
        if let subject { attribute(indicator, region: region, subject: subject, numerator: numerator, denominator: denominator, cause: cause) }
    }

    /// Counts a flow: `amount` of `indicator` happened on `date` at `district`, with these
    /// facets. It adds to the indicator's running total (district and city), and to every plan
    /// target that counts it: one whose period holds `date` and whose filter the facets pass.
    public mutating func record(
        _ indicator: String, district: RegionCode, amount: Int64, on date: LocalDate, facets: [String: String] = [:], plans: PlanSet,
        subject: String? = nil, cause: String? = nil, late: Bool = false
    ) {
        add(indicator, kind: .count, district: district, numerator: amount, subject: subject, cause: cause, late: late)
        for a in plans.counting(indicator, district: district, on: date, facets: facets) {
            for region in [district, district.city] where a.applies(to: region) {
                counted[a.key + "|" + region.code, default: 0] = SafeInteger.add(counted[a.key + "|" + region.code, default: 0], amount)
                touch(a.target.series, region, cause: cause, late: late)
            }
        }
    }

    private mutating func move(
        _ indicator: String, kind: Kind, region: RegionCode, numerator: Int64, denominator: Int64, cause: String?, late: Bool
    ) {
        changeInPlace(&entries[Self.key(indicator, region), default: Entry(indicator: indicator, region: region, kind: kind)]) { entry in
            entry.numerator = SafeInteger.add(entry.numerator, numerator)
            entry.denominator = SafeInteger.add(entry.denominator, denominator)
            entry.changed = true
        }
        touch(indicator, region, cause: cause, late: late)
    }

    private mutating func touch(_ series: String, _ region: RegionCode, cause: String?, late: Bool) {
        let key = Self.key(series, region)
        changeInPlace(&published[key, default: Published()]) { p in
            if let cause, !p.causes.contains(cause) {
                p.causes.append(cause)
                if p.causes.count > Self.causesKept { p.causes.removeFirst(p.causes.count - Self.causesKept) }
            }
            p.late = p.late || late
        }
        dirty.insert(key)
    }

    private mutating func attribute(_ indicator: String, region: RegionCode, subject: String, numerator: Int64, denominator: Int64, cause: String?) {
        let key = Self.key(indicator, region)
        var gone = false
        changeInPlace(&shares[subject, default: [:]][key, default: Share()]) { share in
            share.numerator = SafeInteger.add(share.numerator, numerator)
            share.denominator = SafeInteger.add(share.denominator, denominator)
            if let cause, share.events.last != cause {
                share.events.append(cause)
                if share.events.count > IndicatorContribution.eventsKept { share.events.removeFirst() }
            }
            gone = share.numerator == 0 && share.denominator == 0
        }
        if gone {
            shares[subject]?[key] = nil
            if shares[subject]?.isEmpty == true { shares[subject] = nil }
        }
    }

    // MARK: Reading

    /// What makes up the current value of `indicator` at `region`: each subject's numerator
    /// and denominator and the events that last changed it. At a city, the subjects of all
    /// its districts (and any added at the city itself). Nil when the book has no such value.
    public func explain(_ indicator: String, region: RegionCode) -> IndicatorExplanation? {
        guard let entry = entries[Self.key(indicator, region)] else { return nil }
        // Every subject's shares are looked through (`planwatch explain` replays the journal
        // anyway, which costs far more).
        var contributions: [IndicatorContribution] = []
        for (subject, mine) in shares {
            for (key, share) in mine {
                guard let bar = key.lastIndex(of: "|"), key[..<bar] == indicator, let r = RegionCode(String(key[key.index(after: bar)...])),
                    r == region || (region.isCity && r.isDistrict && r.city == region)
                else { continue }
                contributions.append(
                    IndicatorContribution(subject: subject, region: r, numerator: share.numerator, denominator: share.denominator, events: share.events))
            }
        }
        contributions.sort { ($0.region, $0.subject) < ($1.region, $1.subject) }
        return IndicatorExplanation(
            indicator: indicator, region: region, value: entry.value, numerator: entry.numerator,
            denominator: entry.kind == .ratio ? entry.denominator : nil, revision: published[Self.key(indicator, region)]?.revision ?? 0,
            contributions: contributions)
    }

    /// The current value at `region`, if the indicator is known there.
    public func value(_ indicator: String, region: RegionCode) -> Double? { entries[Self.key(indicator, region)]?.value }

    /// The current numerator at `region` (0 when unknown).
    public func numerator(_ indicator: String, region: RegionCode) -> Int64 { entries[Self.key(indicator, region)]?.numerator ?? 0 }

    /// The current denominator at `region` (0 when unknown).
    public func denominator(_ indicator: String, region: RegionCode) -> Int64 { entries[Self.key(indicator, region)]?.denominator ?? 0 }

    // MARK: Publishing and judging

    /// Publishes what changed since the last flush and judges the plan targets it touches;
    /// on a tick, judges every target of every plan again (verdicts move with time). Returns
    /// the updates and the status changes. `manifest` gives each indicator's kind, measure
    /// and definition version.
    public mutating func flush(now: Timestamp, plans: PlanSet, manifest: HandlerManifest = HandlerManifest(), tick: Bool = false) -> (
        updates: [HandlerOutput], statusChanges: [StatusChange]
    ) {
        var keys = dirty
        dirty.removeAll()
        if tick {
            let mine = Set(manifest.indicators.map(\.id))
            for a in plans.assignments where mine.contains(a.target.indicator) {
                for region in a.regions { keys.insert(Self.key(a.target.series, region)) }
            }
            for key in published.keys where published[key]?.target != nil { keys.insert(key) }
        }
        var updates: [HandlerOutput] = []
        var changes: [StatusChange] = []
        let today = now.localDate
        for key in keys where entries[key]?.changed == true {
            entries[key]?.changedOn = today.dayNumber
            entries[key]?.changed = false
        }
        for key in keys.sorted() {
            guard let bar = key.lastIndex(of: "|"), let region = RegionCode(String(key[key.index(after: bar)...])) else { continue }
            let series = String(key[..<bar])
            let judged = plans.judging(series, at: region, on: today)
            // A series judged by a target is the target's; otherwise the indicator's own.
            guard judged != nil || entries[key] != nil else { continue }
            let indicator = judged?.target.indicator ?? series
            let spec = manifest.indicator(indicator)
            let base = entries[Self.key(indicator, region)]
            var value: Double?
            var numerator: Int64?
            var denominator: Int64?
            var status: TargetStatus?
            var baseline: Double?
            if let a = judged {
                let targetKey = a.key + "|" + region.code
                if spec?.measure == .flow {
                    let n = counted[targetKey] ?? 0
                    (value, numerator) = (Double(n), n)
                } else {
                    (value, numerator) = (base?.value, base?.numerator)
                    denominator = base?.kind == .ratio ? base?.denominator : nil
                    let observed = levelBaseline(targetKey, entry: base, window: a.window, today: today.dayNumber)
                    baseline = a.target.baseline ?? observed
                }
                // A level is judged once its first day of data in the period is over: the first
                // census arrives school by school in one day, and a share of the few schools
                // reported by mid-morning is not the city's.
                let settling = spec?.measure != .flow && base?.value != nil && baselines[targetKey].map { !$0.fixed } == true
                if let final = finals[targetKey], spec?.measure != .flow {
                    status = final
                } else if settling {
                    status = nil
                } else {
                    status = plans.status(of: value, baseline: baseline, against: a, on: today, whole: (spec?.kind ?? .count) == .count)
                    if today.dayNumber > a.window.upperBound, spec?.measure != .flow, let status { finals[targetKey] = status }
                }
            } else if let base {
                (value, numerator) = (base.value, base.numerator)
                denominator = base.kind == .ratio ? base.denominator : nil
            }
            var p = published[key] ?? Published()
            let targetName = judged.map { $0.key }
            let causes = p.causes
            let late = p.late
            p.causes = []
            p.late = false
            let isFinal = judged.map { today > $0.target.deadline }
            guard !p.everPublished || p.value != value || p.status != status || p.target != targetName || p.final != isFinal else {
                published[key] = p
                continue
            }
            if late && p.everPublished { p.revision += 1 }
            var update = IndicatorUpdate(
                indicator: series, scope: region.scope, region: region, value: value, numerator: numerator, denominator: denominator,
                target: judged?.target.target, status: status, asOf: now)
            update.definitionVersion = spec?.definitionVersion ?? 1
            update.changedBy = causes
            update.revision = p.revision
            if let a = judged {
                update.plan = a.plan
                update.period = Plan.Period(start: a.period.start, end: a.target.deadline)
                update.baseline = a.target.baseline ?? baseline
                update.final = today > a.target.deadline
                if a.target.series != a.target.indicator || !a.target.filter.isEmpty {
                    update.measures = a.target.indicator
                    update.filter = a.target.filter
                }
            }
            if p.status != status {
                changes.append(
                    StatusChange(indicator: series, region: region, from: p.status, to: status, update: update, target: judged?.target))
            }
            p.value = value
            p.status = status
            p.target = targetName
            p.final = isFinal
            p.everPublished = true
            published[key] = p
            updates.append(.indicator(update))
        }
        return (updates, changes)
    }

    /// The baseline of a level target at one region: the value when its period began, if the
    /// value predates the period; otherwise the value at the end of the first day of data in
    /// the period (the first census of the period, which arrives in one day).
    private mutating func levelBaseline(_ targetKey: String, entry: Entry?, window: ClosedRange<Int>, today: Int) -> Double? {
        if let b = baselines[targetKey], b.fixed { return b.value }
        guard let entry, let value = entry.value, today >= window.lowerBound else { return baselines[targetKey]?.value }
        if entry.changedOn < window.lowerBound {
            baselines[targetKey] = Baseline(value: value, day: today, fixed: true)
            return value
        }
        if var b = baselines[targetKey] {
            if today > b.day {
                b.fixed = true
            } else {
                b.value = value
            }
            baselines[targetKey] = b
            return b.value
        }
        baselines[targetKey] = Baseline(value: value, day: today, fixed: false)
        return value
    }
}
