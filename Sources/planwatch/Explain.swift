import ArgumentParser
import Foundation
import HandlerKit
import Logging
import PlanWatchRuntime

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what makes up an indicator's current value: which schools, classes, incidents or projects, and which events.",
        discussion: """
            Rebuilds the daemon's state from its journal (the last checkpoint and what follows), so
            give its --config (or its --plan, --clock and --calendar). At a city, the subjects of
            all its districts are listed; their numerators and denominators add up to the value.
            """)

    @Argument(help: "The indicator, e.g. preschool.public_share.")
    var indicator: String

    @Argument(help: "The district or city code, e.g. 370303 or 370300.")
    var region: String

    @OptionGroup var settings: HandlerOptions

    @Flag(help: "One JSON object: the totals and every contribution.")
    var json = false

    func run() throws {
        guard let code = RegionCode(region) else { throw ValidationError("'\(region)' is not a 6-digit region code") }
        let (handlers, plugins, config) = try settings.load()
        var logger = Logger(label: "planwatch.explain")
        logger.logLevel = .warning
        guard
            let e = try Replay.explain(
                indicator: indicator, region: code, journalPath: settings.journal, handlers: handlers, plugins: plugins, config: config, logger: logger)
        else {
            print("no value of \(indicator) at \(region) in \(settings.journal)")
            throw ExitCode(2)
        }
        if json {
            print(
                JSONWriter.string(
                    .object([
                        "indicator": .string(e.indicator), "region": .string(e.region.code), "value": e.value.map { .double($0) } ?? .null,
                        "numerator": .integer(e.numerator), "denominator": .optional(e.denominator), "revision": .integer(e.revision),
                        "contributions": .array(
                            e.contributions.map { c in
                                .object([
                                    "subject": .string(c.subject), "region": .string(c.region.code), "numerator": .integer(c.numerator),
                                    "denominator": .integer(c.denominator), "events": .array(c.events.map { .string($0) }),
                                ])
                            }),
                    ])))
            return
        }
        let value = e.value.map { e.denominator != nil ? String(format: "%.4f", $0) : String(Int64($0)) } ?? "-"
        let ratio = e.denominator.map { " = \(e.numerator)/\($0)" } ?? ""
        print("\(e.indicator) at \(e.region.code): \(value)\(ratio)\(e.revision > 0 ? ", revision \(e.revision)" : "")")
        let width = max(10, e.contributions.map(\.subject.count).max() ?? 0)
        for c in e.contributions {
            let part = e.denominator != nil ? "\(c.numerator)/\(c.denominator)" : "\(c.numerator)"
            print(
                "  \(c.subject.padding(toLength: width, withPad: " ", startingAt: 0))  \(c.region.code)  \(part.padding(toLength: 12, withPad: " ", startingAt: 0))  events \(c.events.joined(separator: ", "))"
            )
        }
        let sumN = e.contributions.reduce(0) { $0 + $1.numerator }
        let sumD = e.contributions.reduce(0) { $0 + $1.denominator }
        print("  \(e.contributions.count) contributions, summing to \(sumN)\(e.denominator != nil ? "/\(sumD)" : "")")
    }
}
