import ArgumentParser
import Foundation
import PlanWatchModel
import PlanWatchSimulator
import ZeroMQ

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish a realistic, seeded demo stream for a city, in accelerated time.",
        discussion: """
            Zibo (370300) with its eight districts at the scale of its 2020 plan: the spring and
            autumn census of every school, enrolment changes, drop-outs and graduation, the plan's
            229 construction projects, campus safety incidents, the teachers' roster and training,
            the budgets (finance.budget needs the Finance plugin) — a year played in --duration
            seconds. The same --seed gives the same stream, byte for byte.
            """)

    @OptionGroup var endpoints: Endpoints

    @Option(help: "Random seed; the same seed gives the same stream.")
    var seed: UInt64 = 2026

    @Option(help: "Schools per district.")
    var schoolsPerDistrict = 36

    @Option(help: "Simulated days from the spring term of the plan year (2020-02-17); 330 reaches January 2021.")
    var days = 330

    @Option(
        help: ArgumentHelp(
            "Event families to play, comma-separated (default: all).",
            valueName: Simulator.Family.allCases.map(\.rawValue).joined(separator: ",")))
    var families: String?

    @Option(help: "Wall-clock seconds the whole stream takes (0: as fast as possible).")
    var duration: Double = 60

    @Flag(help: "Use the acknowledged path (resend until ok or duplicate).")
    var ack = false

    @Flag(help: "Print the stream as JSON lines instead of publishing it.")
    var print = false

    @Flag(help: "Print the summary as JSON: {\"published\", \"seconds\", \"endpoint\"}.")
    var json = false

    func run() throws {
        var chosen = Set(Simulator.Family.allCases)
        if let families {
            chosen = []
            for name in families.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
                guard let family = Simulator.Family(rawValue: name) else {
                    throw ValidationError(
                        "--families: unknown family '\(name)' (known: \(Simulator.Family.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                chosen.insert(family)
            }
        }
        let events = Simulator(seed: seed, schoolsPerDistrict: schoolsPerDistrict, days: days, families: chosen).events()
        if print {
            for event in events { emit(String(decoding: event.body, as: UTF8.self)) }
            return
        }
        let context = ZMQContext()
        let curve = try endpoints.curve()
        let sender = try ack ? AckSender(context: context, endpoint: endpoints.ack, curve: curve) : nil
        let pub = try ack ? nil : FireAndForgetSender(context: context, endpoint: endpoints.ingest, curve: curve)
        let started = Date()
        let interval = events.isEmpty ? 0 : duration / Double(events.count)
        for (i, event) in events.enumerated() {
            let due = started.addingTimeInterval(interval * Double(i))
            let wait = due.timeIntervalSinceNow
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            let frames = [Array(event.topic.utf8), event.body]
            if let sender { _ = try sender.send(frames) } else { try pub?.send(frames) }
        }
        let seconds = Date().timeIntervalSince(started)
        if json {
            emit(JSONWriter.string(.object(JSONObject([
                ("published", .integer(Int64(events.count))), ("seconds", .double((seconds * 10).rounded() / 10)),
                ("endpoint", .string(ack ? endpoints.ack : endpoints.ingest)),
            ]))))
        } else {
            emit("simulate: \(events.count) events published in \(String(format: "%.1f", seconds)) s")
        }
    }
}
