import ArgumentParser
import Foundation
import PlanWatchModel
import PlanWatchRuntime
import ZeroMQ

/// A request to the daemon's snapshot ROUTER, which serves operators' requests too.
struct OperatorRequest {
    let endpoints: Endpoints
    let snapshotEndpoint: String

    /// Sends `request` and collects the reply messages until `end` (or the first one when `single`).
    func send(_ request: [String], single: Bool, timeoutSeconds: Double = 15) throws -> [[[UInt8]]] {
        let context = ZMQContext()
        let dealer = try ZMQSocket(context: context, type: .dealer)
        defer { dealer.close() }
        try endpoints.curve()?.apply(to: dealer)
        try dealer.connect(snapshotEndpoint)
        try dealer.send(request.map { Array($0.utf8) })
        var poller = Poller()
        poller.add(dealer)
        var replies: [[[UInt8]]] = []
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while true {
            let left = Int(max(1, deadline.timeIntervalSinceNow * 1000))
            guard Date() < deadline, try poller.poll(timeoutMilliseconds: left)[0], let frames = try dealer.receive() else {
                throw CLIError("no answer from \(snapshotEndpoint) within \(Int(timeoutSeconds)) s; is planwatchd running?")
            }
            replies.append(frames)
            if single || frames.first == Array("end".utf8) || frames.first == Array("error".utf8) { return replies }
        }
    }
}

struct Ack: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Acknowledge a firing alert: you own it now, and it stops escalating.",
        discussion: """
            The acknowledgement is journaled like an event, so it survives restarts; the alert is
            published again with ackedBy, ackedAt and ackNote, and the change is in its history.
            Exits 0 when acknowledged, 2 when no such alert fires, 1 otherwise.
            """)

    @Argument(help: "The alert's fingerprint, e.g. safety.incident/INC-2026-0311.")
    var fingerprint: String

    @Option(help: "Who acknowledges (a name an auditor can follow up), e.g. \"张店区教育局 王敏\".")
    var by: String

    @Option(help: "What is being done about it.")
    var note: String?

    @OptionGroup var endpoints: Endpoints

    @Option(help: "The daemon's snapshot endpoint (its ROUTER), which takes operators' requests.")
    var snapshotEndpoint = "tcp://127.0.0.1:5561"

    func validate() throws {
        guard !by.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--by must name who acknowledges") }
    }

    func run() throws {
        let reply = try OperatorRequest(endpoints: endpoints, snapshotEndpoint: snapshotEndpoint)
            .send(["ack", fingerprint, by, note ?? ""], single: true)[0]
        let text = reply.map { String(decoding: $0, as: UTF8.self) }
        guard text.count == 3 else { throw CLIError("unexpected reply: \(text)") }
        switch text[0] {
        case "ok":
            print("acknowledged \(fingerprint) by \(by)")
            print(text[2])
        case "notFiring":
            print(text[2])
            throw ExitCode(2)
        default:
            print("\(text[0]): \(text[2])")
            throw ExitCode(1)
        }
    }
}

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every change of an alert: fired, level changed, acknowledged, escalated, resolved.",
        discussion: "Asks the running daemon, or with --journal reads a journal (a SQLite file or a postgres:// URL) directly.")

    @Argument(help: "The alert's fingerprint.")
    var fingerprint: String

    @Option(help: "Read this journal instead of asking the daemon.")
    var journal: String?

    @Flag(help: "One JSON object per change.")
    var json = false

    @OptionGroup var endpoints: Endpoints

    @Option(help: "The daemon's snapshot endpoint (its ROUTER), which takes operators' requests.")
    var snapshotEndpoint = "tcp://127.0.0.1:5561"

    func run() throws {
        var rows: [[UInt8]] = []
        if let journal {
            rows = try AlertHistory.changes(journalPath: journal, fingerprint: fingerprint).map { JSONWriter.bytes($0.json) }
        } else {
            for reply in try OperatorRequest(endpoints: endpoints, snapshotEndpoint: snapshotEndpoint).send(["history", fingerprint], single: false) {
                if reply.first == Array("error".utf8) { throw CLIError(String(decoding: reply.last ?? [], as: UTF8.self)) }
                if reply.count == 2 && reply[0] == Array("change".utf8) { rows.append(reply[1]) }
            }
        }
        if rows.isEmpty {
            print("no history for \(fingerprint)")
            throw ExitCode(2)
        }
        for row in rows {
            if json {
                print(String(decoding: row, as: UTF8.self))
                continue
            }
            guard case .object(let o)? = try? JSONParser.parse(row) else { continue }
            func s(_ key: String) -> String { if case .string(let v)? = o[key] { v } else { "" } }
            var line = "\(s("at"))  \(s("change").padding(toLength: 13, withPad: " ", startingAt: 0)) \(s("level").padding(toLength: 7, withPad: " ", startingAt: 0)) owner \(s("owner"))"
            if !s("by").isEmpty { line += "  by \(s("by"))" }
            if !s("note").isEmpty { line += " — \(s("note"))" }
            print(line)
            print("    \(s("summary"))")
        }
    }
}
