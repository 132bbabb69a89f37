/// Indicators kept incrementally at district and city scope: a city is the sum of its
/// districts' numerators and denominators, never an average of ratios. An update is
/// published only when the value or the status changes.
///
/// Keep an `IndicatorBook` in your handler's state, ``add(_:kind:district:numerator:denominator:subject:cause:late:)``
/// deltas as events arrive, and ``flush(now:plans:tick:)`` once per event or tick.
///
/// Every delta can say whose it is (`subject`: a school, a class, an incident, a project) and
/// which event caused it (`cause`): the book then keeps each subject's share of every district
/// value, so ``explain(_:region:)`` lists what makes up a value (`planwatch explain`), and each
/// update carries the ids of the events that last changed it. A delta from an event that
/// arrived late (`late: true`) makes the next update a revision (`revision` counts them).
public struct IndicatorBook: Codable, Sendable, Equatable {
    /// How the value is computed.
    public enum Kind: String, Codable, Sendable {
        /// `numerator / denominator`; null while the denominator is 0.
        case ratio
        /// `numerator`; no denominator.
        case count
    }

    struct Entry: Codable, Sendable, Equatable {
        var indicator: String
        var region: RegionCode
        var kind: Kind
        var numerator: Int64 = 0
        var denominator: Int64 = 0
        var published = false
        var lastValue: Double?
        var lastStatus: TargetStatus?
        /// The first value seen, the baseline of progress for atMost targets.
        var firstValue: Double?
        /// How many published updates were revisions, for late events.
        var revision: Int64 = 0
        /// Events that changed it since it was last published; whether one came late.
        var causes: [String] = []
        var late = false

        init(indicator: String, region: RegionCode, kind: Kind) {
            self.indicator = indicator
            self.region = region
            self.kind = kind
        }

        // Checkpoints written before revisions and causes were kept still load.
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            indicator = try c.decode(String.self, forKey: .indicator)
            region = try c.decode(RegionCode.self, forKey: .region)
            kind = try c.decode(Kind.self, forKey: .kind)
            numerator = try c.decode(Int64.self, forKey: .numerator)
            denominator = try c.decode(Int64.self, forKey: .denominator)
            published = try c.decode(Bool.self, forKey: .published)
            lastValue = try c.decodeIfPresent(Double.self, forKey: .lastValue)
            lastStatus = try c.decodeIfPresent(TargetStatus.self, forKey: .lastStatus)
            firstValue = try c.decodeIfPresent(Double.self, forKey: .firstValue)
            revision = try c.decodeIfPresent(Int64.self, forKey: .revision) ?? 0
            causes = try c.decodeIfPresent([String].self, forKey: .causes) ?? []
            late = try c.decodeIfPresent(Bool.self, forKey: .late) ?? false
        }

        var value: Double? {
            switch kind {
            case .count: Double(numerator)
            case .ratio: denominator > 0 ? Double(numerator) / Double(denominator) : nil
            }
        }
    }

    /// A status that changed on a flush, for rules such as `enrolment.share_below_target`.
    public struct StatusChange: Sendable, Equatable {
        /// The indicator id.
        public var indicator: String
        /// The district or city.
        public var region: RegionCode
        /// The status published before (nil: none).
        public var from: TargetStatus?
        /// The status now (nil: no target).
        public var to: TargetStatus?
        /// The update being published with it.
        public var update: IndicatorUpdate
    }

    private var entries: [String: Entry] = [:]
    private var dirty: Set<String> = []
    private var withTargets: Set<String> = []
    /// Each subject's share, by indicator, then the region it was added at, then subject.
    private var parts: [String: [String: [String: IndicatorContribution]]] = [:]
    static let causesKept = 20

    /// An empty book.
    public init() {}

    enum CodingKeys: String, CodingKey { case entries, dirty, withTargets, parts }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        entries = try c.decode([String: Entry].self, forKey: .entries)
        dirty = try c.decode(Set<String>.self, forKey: .dirty)
        withTargets = try c.decode(Set<String>.self, forKey: .withTargets)
        // Absent in checkpoints written before contributions were kept: explained from then on.
        parts = try c.decodeIfPresent([String: [String: [String: IndicatorContribution]]].self, forKey: .parts) ?? [:]
    }

    /// Moves an indicator of `district` (and so of its city) by the given deltas, on behalf
    /// of `subject` (whose share ``explain(_:region:)`` lists) because of event `cause`.
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

    private mutating func move(
        _ indicator: String, kind: Kind, region: RegionCode, numerator: Int64, denominator: Int64, cause: String?, late: Bool
    ) {
        let key = "\(indicator)|\(region.code)"
        Self.change(&entries[key, default: Entry(indicator: indicator, region: region, kind: kind)]) { entry in
            entry.numerator = SafeInteger.add(entry.numerator, numerator)
            entry.denominator = SafeInteger.add(entry.denominator, denominator)
            if let cause, !entry.causes.contains(cause) {
                entry.causes.append(cause)
                if entry.causes.count > Self.causesKept { entry.causes.removeFirst(entry.causes.count - Self.causesKept) }
            }
            entry.late = entry.late || late
        }
        dirty.insert(key)
    }

    private mutating func attribute(_ indicator: String, region: RegionCode, subject: String, numerator: Int64, denominator: Int64, cause: String?) {
        let empty = IndicatorContribution(subject: subject, region: region, numerator: 0, denominator: 0, events: [])
        var gone = false
        Self.change(&parts[indicator, default: [:]][region.code, default: [:]][subject, default: empty]) { part in
            part.numerator = SafeInteger.add(part.numerator, numerator)
            part.denominator = SafeInteger.add(part.denominator, denominator)
            if let cause, part.events.last != cause {
                part.events.append(cause)
                if part.events.count > IndicatorContribution.eventsKept { part.events.removeFirst() }
            }
            gone = part.numerator == 0 && part.denominator == 0
        }
        if gone { parts[indicator]?[region.code]?[subject] = nil }
    }

    /// Changes a value in place (through the dictionary's modify accessor), so that no array
    /// inside it is copied.
    private static func change<T>(_ value: inout T, _ body: (inout T) -> Void) { body(&value) }

    /// What makes up the current value of `indicator` at `region`: each subject's numerator
    /// and denominator and the events that last changed it. At a city, the subjects of all
    /// its districts (and any added at the city itself). Nil when the book has no such value.
    public func explain(_ indicator: String, region: RegionCode) -> IndicatorExplanation? {
        guard let entry = entries["\(indicator)|\(region.code)"] else { return nil }
        var contributions: [IndicatorContribution] = []
        for (code, subjects) in parts[indicator] ?? [:] {
            guard let r = RegionCode(code), r == region || (region.isCity && r.isDistrict && r.city == region) else { continue }
            contributions += subjects.values
        }
        contributions.sort { ($0.region, $0.subject) < ($1.region, $1.subject) }
        return IndicatorExplanation(
            indicator: indicator, region: region, value: entry.value, numerator: entry.numerator,
            denominator: entry.kind == .ratio ? entry.denominator : nil, revision: entry.revision, contributions: contributions)
    }

    /// The current value at `region`, if the indicator is known there.
    public func value(_ indicator: String, region: RegionCode) -> Double? {
        entries["\(indicator)|\(region.code)"]?.value
    }

    /// The current numerator at `region` (0 when unknown).
    public func numerator(_ indicator: String, region: RegionCode) -> Int64 {
        entries["\(indicator)|\(region.code)"]?.numerator ?? 0
    }

    /// Publishes what changed since the last flush; on a tick, also re-evaluates every
    /// indicator that has a target (its status moves with time). Returns the updates and
    /// the status changes.
    public mutating func flush(now: Timestamp, plans: PlanSet, tick: Bool = false) -> (
        updates: [HandlerOutput], statusChanges: [StatusChange]
    ) {
        var keys = dirty
        if tick { keys.formUnion(withTargets) }
        dirty.removeAll()
        var updates: [HandlerOutput] = []
        var changes: [StatusChange] = []
        for key in keys.sorted() {
            guard var entry = entries[key] else { continue }
            let value = entry.value
            if entry.firstValue == nil { entry.firstValue = value }
            let match = plans.target(for: entry.indicator, region: entry.region, on: now.localDate)
            if match != nil { withTargets.insert(key) }
            let status = match.flatMap { plans.status(of: value, against: $0, baseline: entry.firstValue, on: now.localDate) }
            let causes = entry.causes
            let late = entry.late
            entry.causes = []
            entry.late = false
            guard !entry.published || entry.lastValue != value || entry.lastStatus != status else {
                entries[key] = entry
                continue
            }
            if late && entry.published { entry.revision += 1 }
            var update = IndicatorUpdate(
                indicator: entry.indicator, scope: entry.region.scope, region: entry.region,
                value: value, numerator: entry.numerator, denominator: entry.kind == .ratio ? entry.denominator : nil,
                target: match?.target.target, status: status, asOf: now)
            update.changedBy = causes
            update.revision = entry.revision
            if entry.lastStatus != status {
                changes.append(
                    StatusChange(indicator: entry.indicator, region: entry.region, from: entry.lastStatus, to: status, update: update))
            }
            entry.published = true
            entry.lastValue = value
            entry.lastStatus = status
            entries[key] = entry
            updates.append(.indicator(update))
        }
        return (updates, changes)
    }
}
