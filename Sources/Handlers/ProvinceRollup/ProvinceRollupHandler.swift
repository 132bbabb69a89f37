import HandlerKit

/// Province rollups: the city indicators of other daemons (the shards that own the cities),
/// summed into province values — numerators and denominators, never an average of ratios.
///
/// It sees only ``IndicatorFeed`` events, which reach a daemon started with
/// `--ingest-indicators`; district updates are ignored (their cities carry them already).
/// Each city's latest value replaces its earlier one, so the province total moves by the
/// difference, at a cost that does not grow with the number of cities.
public struct ProvinceRollupHandler: Handler {
    public init() {}

    public var name: String { "ProvinceRollup" }
    public var eventTypes: [String] { [IndicatorFeed.type] }
    public func makeInitialState() -> State { State() }

    public struct State: Codable, Sendable, Equatable {
        /// The latest value of each city, keyed `indicator|city`.
        var cities: [String: CityValue] = [:]
        var indicators = IndicatorBook()
        public init() {}
    }

    struct CityValue: Codable, Sendable, Equatable {
        var numerator: Int64
        var denominator: Int64
        var asOf: Int64
        var seq: Int64
    }

    public func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
        guard case .other(let body) = event.payload, event.region.isCity,
            case .string(let indicator)? = body["indicator"], case .string("city")? = body["scope"],
            case .integer(let seq)? = body["seq"]
        else { return [] }
        let numerator = Self.integer(body["numerator"]) ?? 0
        let denominator = Self.integer(body["denominator"])
        let key = "\(indicator)|\(event.region.code)"
        let asOf = event.occurredAt.epochMilliseconds
        let old = state.cities[key]
        // An older update arriving late (a re-publication, or a reordering across a failover) changes nothing.
        if let old, (asOf, seq) <= (old.asOf, old.seq) { return [] }
        state.cities[key] = CityValue(numerator: numerator, denominator: denominator ?? 0, asOf: asOf, seq: seq)
        state.indicators.add(
            indicator, kind: denominator == nil ? .count : .ratio, only: event.region.province,
            numerator: SafeInteger.subtract(numerator, old?.numerator ?? 0),
            denominator: SafeInteger.subtract(denominator ?? 0, old?.denominator ?? 0),
            subject: event.region.code, cause: event.id)
        return state.indicators.flush(now: event.occurredAt, plans: PlanSet()).updates
    }

    public func explain(_ indicator: String, region: RegionCode, state: State) -> IndicatorExplanation? {
        state.indicators.explain(indicator, region: region)
    }

    private static func integer(_ value: JSONValue?) -> Int64? {
        if case .integer(let n)? = value { return n }
        return nil
    }
}
