import Foundation
import Hummingbird
import PlanWatchModel
import PlanWatchRuntime

/// What this daemon watches, from the handlers it loaded (plugins included) and the plans it
/// judges: the console takes its domains, regions and names from it, and a client can ask
/// which rules and indicators exist before it subscribes. Built once at start.
struct Catalog: Sendable {
    struct Source: Sendable {
        var handler: String
        var plugin: Bool
        var eventTypes: [String]
        var manifest: HandlerManifest
    }

    let json: String

    init(sources: [Source], hostRules: [RuleSpec], policy: AlertPolicy, plans: PlanSet) {
        var rules: [JSONValue] = []
        var indicators: [JSONValue] = []
        func rule(_ spec: RuleSpec, handler: String) -> JSONValue {
            let settings = policy.rule(spec.id)
            return .object(
                JSONObject([
                    ("id", .string(spec.id)), ("name", .string(spec.name)), ("handler", .string(handler)),
                    ("domain", .string(String(spec.id.prefix { $0 != "." }))), ("owner", .string(settings.owner.rawValue)),
                    ("ackWithin", .string(settings.ackWithin.description)),
                    ("deadlines", .object(JSONObject(spec.deadlines.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value.description)) }))),
                ]))
        }
        for source in sources {
            rules += source.manifest.rules.map { rule($0, handler: source.handler) }
            indicators += source.manifest.indicators.map { spec in
                .object(
                    JSONObject([
                        ("id", .string(spec.id)), ("name", .string(spec.name)), ("handler", .string(source.handler)),
                        ("domain", .string(String(spec.id.prefix { $0 != "." }))), ("kind", .string(spec.kind.rawValue)),
                        ("measure", .string(spec.measure.rawValue)), ("unit", .optional(spec.unit)),
                        ("filters", .object(JSONObject(spec.filters.sorted { $0.key < $1.key }.map { ($0.key, .array($0.value.map { .string($0) })) }))),
                    ]))
            }
        }
        rules += hostRules.map { rule($0, handler: "planwatchd") }
        var regions: [String: String] = [:]
        let planList: [JSONValue] = plans.plans.map { plan in
            for code in [plan.city] + plan.districts where regions[code.code] == nil { regions[code.code] = "" }
            for (code, name) in plan.names ?? [:] { regions[code] = name }
            return .object(
                JSONObject([
                    ("plan", .string(plan.plan)), ("title", .string(plan.title)), ("city", .string(plan.city.code)),
                    ("period", .object(["start": .string(plan.period.start.description), "end": .string(plan.period.end.description)])),
                    ("districts", .array(plan.districts.map { .string($0.code) })),
                    ("targets", .array(plan.targets.map { t in
                        .object(
                            JSONObject([
                                ("indicator", .string(t.indicator)), ("series", .string(t.series)), ("scope", .string(Self.scope(t.scope))),
                                ("region", .optional({ if case .district(let c) = t.scope { c.code } else { nil } }())),
                                ("deadline", .string(t.deadline.description)), ("planRef", .string(t.planRef)), ("text", .optional(t.text)),
                            ]))
                    })),
                ]))
        }
        let handlers: [JSONValue] = sources.map { s in
            .object(
                JSONObject([
                    ("name", .string(s.handler)), ("plugin", .bool(s.plugin)), ("eventTypes", .array(s.eventTypes.map { .string($0) })),
                ]))
        }
        json = JSONWriter.string(
            .object(
                JSONObject([
                    ("handlers", .array(handlers)), ("rules", .array(rules)), ("indicators", .array(indicators)), ("plans", .array(planList)),
                    ("regions", .array(regions.sorted { $0.key < $1.key }.map { .object(["code": .string($0.key), "name": .string($0.value)]) })),
                ])))
    }
}

extension Catalog {
    /// `city`, `eachDistrict` or `district` (with `region`), as plan files write it.
    static func scope(_ scope: TargetScope) -> String {
        switch scope {
        case .city: "city"
        case .eachDistrict: "eachDistrict"
        case .district: "district"
        }
    }
}

/// `/api/catalog` (what this daemon watches) and `/api/clock` (the handlers' "now": the
/// console measures ages and overdue by it, not by the browser's clock — under the event
/// clock the daemon may be years behind the wall).
struct CatalogController {
    let runtime: Runtime
    let catalog: Catalog

    func register(on router: Router<OperatorContext>) {
        router.get("/api/catalog") { _, _ -> Response in HTTPServer.json(catalog.json) }
        router.get("/api/clock") { _, _ -> Response in
            let wall = Timestamp(epochMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
            let event = runtime.stats.watermark
            let now = runtime.clockMode == .event && event > 0 ? Timestamp(epochMilliseconds: event).inChinaTime : wall.inChinaTime
            return HTTPServer.json(.object(["mode": .string(runtime.clockMode.rawValue), "now": .string(now.description)]))
        }
    }
}
