import Foundation
import PackagePlugin

/// `swift package plugin --allow-writing-to-package-directory new-handler --name Inspection`
///
/// Creates Sources/Handlers/<Name>/<Name>Handler.swift (a handler written against HandlerKit
/// only), Tests/<Name>Tests/<Name>Tests.swift (a passing example test with
/// HandlerKitTesting), and registers both: the targets in Package.swift and the handler in
/// Sources/HandlerCatalog/Catalog.swift, at the marker comments.
@main
struct NewHandler: CommandPlugin {
    struct Failure: Error, CustomStringConvertible { let description: String }

    func performCommand(context: PluginContext, arguments: [String]) async throws {
        var extractor = ArgumentExtractor(arguments)
        guard let name = extractor.extractOption(named: "name").first else {
            throw Failure(description: "usage: swift package plugin --allow-writing-to-package-directory new-handler --name Inspection")
        }
        guard let first = name.unicodeScalars.first, CharacterSet.uppercaseLetters.contains(first),
            name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) && $0.isASCII })
        else {
            throw Failure(description: "--name must be an UpperCamelCase Swift identifier, e.g. Inspection (got '\(name)')")
        }
        let root = context.package.directoryURL
        let source = root.appendingPathComponent("Sources/Handlers/\(name)")
        let tests = root.appendingPathComponent("Tests/\(name)Tests")
        for url in [source, tests] where FileManager.default.fileExists(atPath: url.path) {
            throw Failure(description: "\(url.path) exists already; choose another name")
        }
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: tests, withIntermediateDirectories: true)
        try Templates.handler(name).write(to: source.appendingPathComponent("\(name)Handler.swift"), atomically: true, encoding: .utf8)
        try Templates.test(name).write(to: tests.appendingPathComponent("\(name)Tests.swift"), atomically: true, encoding: .utf8)

        try insert(
            into: root.appendingPathComponent("Package.swift"),
            edits: [
                ("// new-handler: targets", """
                .target(
                    name: "\(name)", dependencies: ["HandlerKit"],
                    path: "Sources/Handlers/\(name)", swiftSettings: strict),
                .testTarget(name: "\(name)Tests", dependencies: ["\(name)", "HandlerKitTesting"], swiftSettings: strict),
                """),
                ("// new-handler: catalog dependencies", "\"\(name)\","),
            ])
        try insert(
            into: root.appendingPathComponent("Sources/HandlerCatalog/Catalog.swift"),
            edits: [
                ("// new-handler: imports", "import \(name)"),
                ("// new-handler: handlers", "\(name)Handler(),"),
            ])
        print("""
            Created Sources/Handlers/\(name)/\(name)Handler.swift and Tests/\(name)Tests/\(name)Tests.swift,
            registered \(name)Handler in Sources/HandlerCatalog/Catalog.swift and Package.swift.
            Next: swift test --filter \(name)Tests
            """)
    }

    /// Inserts each text on the line before its marker comment, with the marker's indentation.
    private func insert(into file: URL, edits: [(marker: String, text: String)]) throws {
        var text = try String(contentsOf: file, encoding: .utf8)
        for edit in edits {
            guard let range = text.range(of: edit.marker) else {
                throw Failure(description: "\(file.lastPathComponent) has no '\(edit.marker)' marker; register the handler by hand")
            }
            let lineStart = text[..<range.lowerBound].lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex
            let indent = String(text[lineStart..<range.lowerBound])
            let block = edit.text.split(separator: "\n", omittingEmptySubsequences: false).map { indent + $0 }.joined(separator: "\n")
            text.insert(contentsOf: block + "\n", at: lineStart)
        }
        try text.write(to: file, atomically: true, encoding: .utf8)
    }
}

enum Templates {
    static func handler(_ name: String) -> String {
        let lower = name.prefix(1).lowercased() + name.dropFirst()
        return """
            import HandlerKit

            /// \(name): a domain handler. It consumes `\(lower).report` events (an event type of its
            /// own; document it in docs/domains.md) and raises `\(lower).example` when a report's
            /// `value` is below its `minimum` — yellow, orange if still below after the rule's
            /// `orange` deadline. It keeps `\(lower).below_minimum`, the subjects below their
            /// minimum per district and city, which plan files may set targets on.
            ///
            /// Everything the host needs to know of it is in ``manifest``: plan targets, rule
            /// settings (`rules.\(lower).example` in the daemon's config) and the console's names
            /// come from there, with no edit outside this module.
            public struct \(name)Handler: Handler {
                public init() {}

                public static let eventType = "\(lower).report"

                static let rule = RuleSpec(
                    "\(lower).example", name: "数值低于下限", owner: .district, ackWithin: RuleDuration(3, .workingDays),
                    deadlines: ["orange": RuleDuration(5, .workingDays)])

                public var name: String { "\(name)" }
                public var eventTypes: [String] { [Self.eventType] }
                public var payloadValidators: [String: PayloadValidator] {
                    [Self.eventType: { (r: FieldReader) throws(Rejection) in _ = try Report(r) }]
                }
                public var manifest: HandlerManifest { Self.manifest }
                /// Made once: the indicators' flush reads it at every event.
                static let manifest = HandlerManifest(
                    indicators: [IndicatorSpec("\(lower).below_minimum", kind: .count, name: "低于下限的对象", unit: "个")],
                    rules: [Self.rule])
                public func makeInitialState() -> State { State() }

                public struct State: Codable, Sendable, Equatable {
                    var below: [String: RegionCode] = [:]
                    var deadlines = DeadlineQueue()
                    var alerts = AlertBook()
                    var indicators = IndicatorBook()
                    public init() {}
                }

                struct Report {
                    var subject: String
                    var value: Int64
                    var minimum: Int64
                    init(_ r: FieldReader) throws(Rejection) {
                        subject = try r.string("subject", length: 1...128)
                        value = try r.integer("value")
                        minimum = try r.integer("minimum")
                    }
                }

                public func handle(_ event: Event, state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
                    guard case .other(let object) = event.payload else { return [] }
                    let report = try Report(FieldReader(object, path: "payload"))
                    var out: [HandlerOutput] = []
                    let fingerprint = "\\(Self.rule.id)/\\(report.subject)"
                    if report.value < report.minimum {
                        if state.below[report.subject] == nil {
                            state.below[report.subject] = event.region
                            state.indicators.add(
                                "\(lower).below_minimum", kind: .count, district: event.region, numerator: 1, subject: report.subject,
                                cause: event.id)
                            state.deadlines.schedule(report.subject, at: context.due(Self.rule, "orange", from: event.occurredAt))
                        }
                        let firing = AlertBook.Firing(
                            rule: Self.rule.id, subjectKey: report.subject, region: event.region,
                            subject: ["subject": report.subject], level: .yellow,
                            summary: "\\(report.subject) 数值\\(report.value), 低于\\(report.minimum)", planRef: nil,
                            at: event.occurredAt, causes: [event.id])
                        if let o = state.alerts.fire(firing) { out.append(o) }
                    } else if let region = state.below.removeValue(forKey: report.subject) {
                        state.indicators.add(
                            "\(lower).below_minimum", kind: .count, district: region, numerator: -1, subject: report.subject, cause: event.id)
                        if let o = state.alerts.resolve(fingerprint: fingerprint, at: event.occurredAt, causes: [event.id]) { out.append(o) }
                    }
                    return out + flush(&state, context: context, tick: false)
                }

                public func tick(state: inout State, context: HandlerContext) throws -> [HandlerOutput] {
                    var out: [HandlerOutput] = []
                    for due in state.deadlines.popDue(now: context.now) {
                        guard let region = state.below[due.key], var alert = state.alerts.firing["\\(Self.rule.id)/\\(due.key)"] else { continue }
                        alert.summary += ", 逾期未改正"
                        let firing = AlertBook.Firing(
                            rule: Self.rule.id, subjectKey: due.key, region: region, subject: alert.subject, level: .orange,
                            summary: alert.summary, planRef: nil, at: Timestamp(epochMilliseconds: due.due), causes: [])
                        if let o = state.alerts.fire(firing) { out.append(o) }
                    }
                    return out + flush(&state, context: context, tick: true)
                }

                public func explain(_ indicator: String, region: RegionCode, state: State) -> IndicatorExplanation? {
                    state.indicators.explain(indicator, region: region)
                }

                /// Publishes what changed, and judges the plans' targets on it.
                private func flush(_ state: inout State, context: HandlerContext, tick: Bool) -> [HandlerOutput] {
                    state.indicators.flush(now: context.now, plans: context.plans, manifest: manifest, tick: tick).updates
                }
            }

            """
    }

    static func test(_ name: String) -> String {
        let lower = name.prefix(1).lowercased() + name.dropFirst()
        return """
            import \(name)
            import HandlerKit
            import HandlerKitTesting
            import Testing

            @Suite struct \(name)Tests {
                func report(_ value: Int64) -> JSONValue {
                    .object(["subject": "370303-0042", "value": .integer(value), "minimum": 10])
                }

                @Test func aValueBelowTheMinimumFiresTurnsOrangeAfterItsDeadlineAndRecoveryResolves() throws {
                    var s = Scenario(\(name)Handler(), now: "2026-03-02T08:00:00+08:00")  // a Monday
                    try s.send(\(name)Handler.eventType, region: "370303", payload: report(7))
                    #expect(s.firing("\(lower).example/370303-0042")?.level == .yellow)
                    #expect(s.indicator("\(lower).below_minimum", "370300")?.value == 1)
                    try s.advance(days: 8)  // past 5 working days
                    #expect(s.firing("\(lower).example/370303-0042")?.level == .orange)
                    try s.send(\(name)Handler.eventType, region: "370303", payload: report(12))
                    #expect(s.firing("\(lower).example/370303-0042") == nil)
                    #expect(s.indicator("\(lower).below_minimum", "370300")?.value == 0)
                }

                /// Its rule's deadline is a deployment's to restate (`rules.\(lower).example.deadlines.orange`).
                @Test func aDeploymentMayRestateTheDeadline() throws {
                    var s = Scenario(\(name)Handler(), now: "2026-03-02T08:00:00+08:00")
                    s.timings = RuleTimings(["\(lower).example.orange": RuleDuration(1, .days)])
                    try s.send(\(name)Handler.eventType, region: "370303", payload: report(7))
                    try s.advance(days: 2)
                    #expect(s.firing("\(lower).example/370303-0042")?.level == .orange)
                }

                /// A plan may set a target on its indicator: nobody below the minimum by the deadline.
                @Test func aPlanTargetJudgesItsIndicator() throws {
                    var s = Scenario(\(name)Handler(), now: "2026-03-02T08:00:00+08:00")
                    s.plans = PlanSet(plans: [
                        Plan(
                            plan: "Example 2026", title: "示例", city: RegionCode("370300")!, source: nil,
                            period: .init(start: LocalDate(iso: "2026-01-01")!, end: LocalDate(iso: "2026-12-31")!),
                            targets: [
                                PlanTarget(
                                    indicator: "\(lower).below_minimum", scope: .city, atMost: 0, deadline: LocalDate(iso: "2026-12-31")!,
                                    planRef: "Example 2026 §1")
                            ])
                    ])
                    try s.send(\(name)Handler.eventType, region: "370303", payload: report(7))
                    #expect(s.indicator("\(lower).below_minimum", "370300")?.target?.planRef == "Example 2026 §1")
                    try s.send(\(name)Handler.eventType, region: "370303", payload: report(12))
                    // A level is judged once its first day of data in the plan's period is over.
                    #expect(s.indicator("\(lower).below_minimum", "370300")?.status == nil)
                    try s.advance(days: 1)
                    #expect(s.indicator("\(lower).below_minimum", "370300")?.status == .met)
                }
            }

            """
    }
}
