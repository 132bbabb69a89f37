/// Indicators kept incrementally at district and city scope: a city is the sum of its
/// districts' numerators and denominators, never an average of ratios. An update is
/// published only when the value or the status changes.
///
/// Keep an `IndicatorBook` in your handler's state, ``add(_:kind:district:numerator:denominator:)``
/// deltas as events arrive, and ``flush(now:plans:)`` once per event or tick.
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

    /// An empty book.
    public init() {}

    /// Moves an indicator of `district` (and so of its city) by the given deltas.
    public mutating func add(_ indicator: String, kind: Kind, district: RegionCode, numerator: Int64 = 0, denominator: Int64 = 0) {
        for region in district.isDistrict ? [district, district.city] : [district] {
            add(indicator, kind: kind, only: region, numerator: numerator, denominator: denominator)
        }
    }

    /// Moves an indicator of exactly `region` (a district, a city or a province) by the given
    /// deltas, and of no other region: for values that arrive already summed, such as the
    /// city totals a province rolls up.
    public mutating func add(_ indicator: String, kind: Kind, only region: RegionCode, numerator: Int64 = 0, denominator: Int64 = 0) {
        let key = "\(indicator)|\(region.code)"
        var entry = entries[key] ?? Entry(indicator: indicator, region: region, kind: kind)
        entry.numerator += numerator
        entry.denominator += denominator
        entries[key] = entry
        dirty.insert(key)
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
            guard !entry.published || entry.lastValue != value || entry.lastStatus != status else {
                entries[key] = entry
                continue
            }
            let update = IndicatorUpdate(
                indicator: entry.indicator, scope: entry.region.scope, region: entry.region,
                value: value, numerator: entry.numerator, denominator: entry.kind == .ratio ? entry.denominator : nil,
                target: match?.target.target, status: status, asOf: now)
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
