import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
import PlanWatchWire
import Synchronization
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
            Only an authenticated operator may acknowledge, and the audit trail records who:
            over HTTP (--http) as a user of the daemon's web config (basic_auth_users; the
            password comes from PLANWATCH_PASSWORD or is asked for), or over ZeroMQ as a CURVE
            key allowed to publish operator. (--server-key, --key-file), under the key's name.
            The acknowledgement is journaled like an event, so it survives restarts; the alert is
            published again with ackedBy, ackedAt and ackNote, and the change is in its history.
            Exits 0 when acknowledged, 2 when no such alert fires, 1 otherwise.
            """)

    @Argument(help: "The alert's fingerprint, e.g. safety.incident/INC-2026-0311.")
    var fingerprint: String

    @Option(help: "What is being done about it.")
    var note: String?

    @Option(name: .customLong("http"), help: "The daemon's HTTP address, e.g. http://127.0.0.1:8080 (then --user is needed; PLANWATCH_HTTP).")
    var httpFlag: String?

    @Option(name: .customLong("user"), help: "With --http: the web config user to acknowledge as (PLANWATCH_USER).")
    var userFlag: String?

    var http: String? { httpFlag ?? ClientConfig.value("http") }
    var user: String? { userFlag ?? ClientConfig.value("user") }

    @OptionGroup var endpoints: Endpoints

    @Option(help: "The daemon's snapshot endpoint (its ROUTER), which takes operators' requests over CURVE.")
    var snapshotEndpoint = ClientConfig.value("snapshotEndpoint", default: "tcp://127.0.0.1:5561")

    @Flag(help: "Print {\"status\", \"fingerprint\", \"alert\" or \"detail\"} as JSON.")
    var json = false

    func validate() throws {
        if http != nil && user == nil { throw ValidationError("--http needs --user (a user of the daemon's web config)") }
        if http == nil && endpoints.serverKey == nil {
            throw ValidationError("acknowledging needs an identity: --http URL --user NAME, or CURVE keys (--server-key, --key-file)")
        }
    }

    func run() throws {
        let (status, detail): (String, String)
        if let http, let user {
            (status, detail) = try OperatorHTTP(base: http, user: user).acknowledge(fingerprint: fingerprint, note: note)
        } else {
            let reply = try OperatorRequest(endpoints: endpoints, snapshotEndpoint: snapshotEndpoint)
                .send(["ack", fingerprint, "", note ?? ""], single: true)[0]
            let text = reply.map { String(decoding: $0, as: UTF8.self) }
            guard text.count == 3 else { throw CLIError("unexpected reply: \(text)") }
            (status, detail) = (text[0], text[2])
        }
        if json {
            var o = JSONObject([("status", .string(status)), ("fingerprint", .string(fingerprint))])
            if status == "ok", let alert = try? JSONParser.parse(Array(detail.utf8)) { o["alert"] = alert } else { o["detail"] = .string(detail) }
            emit(JSONWriter.string(.object(o)))
            if status != "ok" { throw ExitCode(status == "notFiring" ? 2 : 1) }
            return
        }
        switch status {
        case "ok":
            print("acknowledged \(fingerprint)")
            print(detail)
        case "notFiring":
            print(detail)
            throw ExitCode(2)
        default:
            print("\(status): \(detail)")
            throw ExitCode(1)
        }
    }
}

/// An operator's request over the daemon's HTTP API, with basic authentication.
struct OperatorHTTP {
    let base: String
    let user: String

    /// `(status, detail)` as the ROUTER would answer: `ok` (the alert's body), `notFiring`,
    /// `rejected` or `busy`.
    func acknowledge(fingerprint: String, note: String?) throws -> (String, String) {
        guard let url = URL(string: base.hasSuffix("/") ? base + "api/alerts/ack" : base + "/api/alerts/ack") else {
            throw CLIError("--http \(base) is not a URL")
        }
        let password = try Self.password(for: user)
        var request = URLRequest(url: url, timeoutInterval: 30)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Basic " + Data("\(user):\(password)".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        request.httpBody = Data(JSONWriter.bytes(.object(["fingerprint": .string(fingerprint), "note": .optional(note)])))
        let (status, body) = try Self.send(request)
        switch status {
        case 200: return ("ok", body)
        case 404: return ("notFiring", body.trimmingCharacters(in: .whitespacesAndNewlines))
        case 503: return ("busy", body.trimmingCharacters(in: .whitespacesAndNewlines))
        default: return ("rejected", "HTTP \(status): " + body.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// PLANWATCH_PASSWORD, or asked for on the terminal (not echoed).
    static func password(for user: String) throws -> String {
        if let password = ProcessInfo.processInfo.environment["PLANWATCH_PASSWORD"] { return password }
        guard isatty(STDIN_FILENO) != 0, let typed = getpass("password for \(user): ") else {
            throw CLIError("no password: set PLANWATCH_PASSWORD or run on a terminal")
        }
        return String(cString: typed)
    }

    static func send(_ request: URLRequest) throws -> (Int, String) {
        let result = Mutex<Result<(Int, String), any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let refusals = NoChallenge()
        let session = URLSession(configuration: .ephemeral, delegate: refusals, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        session.dataTask(with: request) { data, response, error in
            result.withLock {
                if error != nil, refusals.challenged {
                    $0 = .success((401, "the daemon refused these credentials (not a user of its web config, or a wrong password)"))
                } else if let error {
                    $0 = .failure(CLIError("no answer from \(request.url?.absoluteString ?? ""): \(error.localizedDescription)"))
                }
                else { $0 = .success(((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self))) }
            }
            done.signal()
        }.resume()
        done.wait()
        return try result.withLock { $0! }.get()
    }
}

/// Refuses a 401's challenge: the credentials were sent with the request, and there are no
/// others to try (Foundation on Linux would otherwise wait for ever); remembers that it came.
private final class NoChallenge: NSObject, URLSessionTaskDelegate, Sendable {
    private let seen = Mutex(false)
    var challenged: Bool { seen.withLock { $0 } }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        seen.withLock { $0 = true }
        completionHandler(.cancelAuthenticationChallenge, nil)
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
    var snapshotEndpoint = ClientConfig.value("snapshotEndpoint", default: "tcp://127.0.0.1:5561")

    func run() throws {
        var rows: [[UInt8]] = []
        if let journal {
            rows = try AlertHistory.changes(journalPath: journal, fingerprint: fingerprint).map(\.body)
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
