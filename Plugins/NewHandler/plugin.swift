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
            /// `value` is below its `minimum`.
            public struct \(name)Handler: Handler {
                public init() {}

                public static let eventType = "\(lower).report"

                public var name: String { "\(name)" }
                public var eventTypes: [String] { [Self.eventType] }
                public var payloadValidators: [String: EventDecoder.PayloadValidator] {
                    [Self.eventType: { (r: FieldReader) throws(Rejection) in _ = try Report(r) }]
                }
                public func makeInitialState() -> State { State() }

                public struct State: Codable, Sendable, Equatable {
                    var alerts = AlertBook()
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
                    if report.value < report.minimum {
                        let firing = AlertBook.Firing(
                            rule: "\(lower).example", subjectKey: report.subject, region: event.region,
                            subject: ["subject": report.subject], level: .yellow,
                            summary: "\\(report.subject) 数值\\(report.value), 低于\\(report.minimum)", planRef: nil,
                            at: event.occurredAt, causes: [event.id])
                        return [state.alerts.fire(firing)].compactMap { $0 }
                    }
                    return [
                        state.alerts.resolve(
                            fingerprint: "\(lower).example/\\(report.subject)", at: event.occurredAt, causes: [event.id])
                    ].compactMap { $0 }
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

                @Test func aValueBelowTheMinimumFiresAndRecoveryResolves() throws {
                    var s = Scenario(\(name)Handler(), now: "2026-03-02T08:00:00+08:00")
                    try s.send(\(name)Handler.eventType, region: "370303", payload: report(7))
                    #expect(s.firing("\(lower).example/370303-0042")?.level == .yellow)
                    try s.send(\(name)Handler.eventType, region: "370303", payload: report(12))
                    #expect(s.firing("\(lower).example/370303-0042") == nil)
                }
            }

            """
    }
}
