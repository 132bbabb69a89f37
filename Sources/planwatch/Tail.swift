import ArgumentParser
import Foundation
import PlanWatchModel
import PlanWatchWire
import ZeroMQ

struct Tail: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the daemon's alerts, indicators and dead letters as they are published.",
        discussion: "Readable coloured lines for people by default; --json prints one JSON object per line.")

    @Argument(help: "Topic prefixes, e.g. alert. or indicator.preschool (none: everything).")
    var prefixes: [String] = []

    @OptionGroup var endpoints: Endpoints

    @Flag(help: "One JSON object per line: {\"topic\": ..., \"body\": {...}}.")
    var json = false

    @Flag(help: "Colour even when standard output is not a terminal.")
    var color = false

    @Flag(help: "Start with the daemon's current indicators and firing alerts (its snapshot), then only newer messages.")
    var snapshot = false

    @Option(help: "The daemon's snapshot endpoint (its ROUTER), for --snapshot.")
    var snapshotEndpoint = ClientConfig.value("snapshotEndpoint", default: "tcp://127.0.0.1:5561")

    @Option(help: "Stop after this many messages (those of the snapshot included).")
    var count: Int?

    @Option(help: "Stop after this many seconds.")
    var seconds: Double?

    func run() throws {
        let context = ZMQContext()
        let socket = try ZMQSocket(context: context, type: .sub)
        defer { socket.close() }
        try endpoints.curve()?.apply(to: socket)
        try socket.connect(endpoints.output)
        for prefix in prefixes.isEmpty ? [""] : prefixes { try socket.set(.subscribe(prefix)) }
        let deadline = seconds.map { Date().addingTimeInterval($0) }
        // NO_COLOR (no-color.org): no colour unless --color asks for it.
        let noColor = !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
        let colour = color || (isatty(STDOUT_FILENO) != 0 && !noColor)
        var received = 0
        // The Clone pattern: subscribed first, then the snapshot; afterwards only newer seq.
        var after: Int64 = 0
        if snapshot {
            let request = OperatorRequest(endpoints: endpoints, snapshotEndpoint: snapshotEndpoint)
            for prefix in prefixes.isEmpty ? [""] : prefixes {
                for frames in try request.send(["snapshot", prefix], single: false, timeoutSeconds: 30) where frames.count == 2 {
                    let topic = String(decoding: frames[0], as: UTF8.self)
                    if topic == "end" {
                        after = max(after, Int64(String(decoding: frames[1], as: UTF8.self)) ?? 0)
                    } else if count.map({ received < $0 }) ?? true {
                        received += 1
                        show(topic: topic, body: frames[1], colour: colour)
                    }
                }
            }
        }
        var poller = Poller()
        poller.add(socket)
        while count.map({ received < $0 }) ?? true {
            if let deadline, Date() >= deadline { break }
            guard try poller.poll(timeoutMilliseconds: 200)[0], let frames = try socket.receive(wait: false),
                frames.count == 2
            else { continue }
            let topic = String(decoding: frames[0], as: UTF8.self)
            if after > 0, case .object(let o)? = try? JSONParser.parse(frames[1]), case .integer(let seq)? = o["seq"], seq <= after {
                continue  // already in the snapshot
            }
            received += 1
            show(topic: topic, body: frames[1], colour: colour)
        }
    }

    private func show(topic: String, body: [UInt8], colour: Bool) {
        if json {
            emit("{\"topic\":\(JSONWriter.string(.string(topic))),\"body\":\(String(decoding: body, as: UTF8.self))}")
        } else {
            emit(TailFormat.line(topic: topic, body: body, colour: colour))
        }
    }
}

/// The human-readable form of one published message.
enum TailFormat {
    static func line(topic: String, body: [UInt8], colour: Bool) -> String {
        guard case .object(let o)? = try? JSONParser.parse(body) else { return "\(topic) \(String(decoding: body, as: UTF8.self))" }
        func s(_ key: String) -> String {
            switch o[key] {
            case .string(let v)?: v
            case .integer(let v)?: String(v)
            case .double(let v)?: String(format: "%.4g", v)
            default: "-"
            }
        }
        let seq = s("seq")
        if topic.hasPrefix("alert.") {
            let level = s("level")
            let code: String =
                switch level {
                case "red": "\u{1B}[1;31m"
                case "orange": "\u{1B}[1;33m"
                case "yellow": "\u{1B}[33m"
                default: "\u{1B}[34m"
                }
            let status = s("status") == "resolved" ? "RESOLVED" : "FIRING"
            let head = "[\(level.uppercased()) \(status)] \(s("rule")) \(s("region"))"
            let painted = colour ? "\(code)\(head)\u{1B}[0m" : head
            // The alert desk republishes an alert when it is acknowledged or escalated: say so.
            var desk = ""
            if case .string(let by)? = o["ackedBy"] { desk += " [确认: \(by)]" } else if case .string(let to)? = o["escalatedTo"] {
                desk += " [升级至 \(to)]"
            }
            return "#\(seq) \(painted) \(s("summary")) (\(s("planRef")))\(desk)"
        }
        if topic.hasPrefix("indicator.") {
            let text = "#\(seq) \(s("indicator")) \(s("scope")) \(s("region")) = \(s("value")) [\(s("status"))]"
            return colour ? "\u{1B}[36m\(text)\u{1B}[0m" : text
        }
        if topic.hasPrefix("deadletter.") {
            let text = "#\(seq) DEAD LETTER \(s("reason")): \(s("detail")) (topic \(s("topic")))"
            return colour ? "\u{1B}[35m\(text)\u{1B}[0m" : text
        }
        return "#\(seq) \(topic) \(String(decoding: body, as: UTF8.self))"
    }
}

/// Writes a line to standard output at once (no buffering), so pipes see it live.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
