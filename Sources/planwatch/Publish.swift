import ArgumentParser
import Foundation
import PlanWatchModel
import ZeroMQ

struct Publish: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish events (JSON lines) to the daemon.",
        discussion: """
            The topic of each line is <type>.<region> of its body. Lines are sent as they are read,
            so `tail -f events.jsonl | planwatch publish --ack -` publishes each as it comes. Without
            --ack the events go fire-and-forget to the daemon's SUB. With --ack each goes to the
            ROUTER and is resent until the daemon answers ok or duplicate; each rejection's reason
            and the counts are printed. On a terminal a progress line is kept on standard error.
            Exit status: 0 when every event was taken (ok or duplicate), 1 when any was rejected,
            3 when the daemon could not be reached or stopped answering.
            """)

    @Argument(help: "File of events, one JSON object per line ('-' or none: standard input).")
    var file: String?

    @Flag(help: "Use the acknowledged path and report ok / duplicate / rejected.")
    var ack = false

    @OptionGroup var endpoints: Endpoints

    @Option(help: "Seconds to wait for a reply before resending (with --ack).")
    var timeout: Double = 5

    @Option(help: "Give up after this many tries per event (with --ack).")
    var retries = 20

    @Flag(help: "One JSON object per rejection, and the counts as one JSON object at the end.")
    var json = false

    func run() throws {
        let context = ZMQContext()
        var counts: [String: Int] = ["ok": 0, "duplicate": 0, "rejected": 0]
        var sent = 0
        let progress = Progress(enabled: !json && isatty(STDERR_FILENO) != 0)
        let fireAndForget: FireAndForgetSender?
        let acknowledged: AckSender?
        do {
            fireAndForget = ack ? nil : try FireAndForgetSender(context: context, endpoint: endpoints.ingest, timeoutSeconds: timeout, curve: try endpoints.curve())
            acknowledged = ack ? try AckSender(context: context, endpoint: endpoints.ack, timeoutSeconds: timeout, maxTries: retries, curve: try endpoints.curve()) : nil
        } catch let error as CLIError {
            printError(error.description)
            throw ExitCode(3)
        }
        try EventLine.stream(path: file) { line in
            if let sender = fireAndForget {
                try sender.send([line.topic, line.body])
            } else if let sender = acknowledged {
                let reply: (status: String, detail: String)
                do { reply = try sender.send([line.topic, line.body]) } catch {
                    progress.finish()
                    printError("line \(line.number): \(error); stopping after \(sent) events")
                    throw ExitCode(3)
                }
                counts[reply.status, default: 0] += 1
                if reply.status == "rejected" {
                    progress.clear()
                    if json {
                        emit(JSONWriter.string(.object(JSONObject([
                            ("line", .integer(Int64(line.number))), ("id", .string(line.id)), ("status", "rejected"), ("detail", .string(reply.detail)),
                        ]))))
                    } else {
                        emit("line \(line.number): rejected: \(reply.detail)")
                    }
                }
            }
            sent += 1
            progress.show(ack ? "sent \(sent): ok \(counts["ok"]!), duplicate \(counts["duplicate"]!), rejected \(counts["rejected"]!)" : "sent \(sent)")
        }
        progress.finish()
        if json {
            var summary = JSONObject([("sent", .integer(Int64(sent))), ("endpoint", .string(ack ? endpoints.ack : endpoints.ingest))])
            if ack { for k in ["ok", "duplicate", "rejected"] { summary[k] = .integer(Int64(counts[k]!)) } }
            emit(JSONWriter.string(.object(summary)))
        } else if ack {
            emit("ok \(counts["ok"]!), duplicate \(counts["duplicate"]!), rejected \(counts["rejected"]!)")
        } else {
            emit("published \(sent) events to \(endpoints.ingest)")
        }
        if counts["rejected"]! > 0 { throw ExitCode(1) }
    }
}

/// A progress line on standard error, rewritten in place at most ten times a second.
final class Progress {
    private let enabled: Bool
    private var last = Date.distantPast
    private var shown = false

    init(enabled: Bool) { self.enabled = enabled }

    func show(_ text: @autoclosure () -> String) {
        guard enabled, Date().timeIntervalSince(last) >= 0.1 else { return }
        last = Date()
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text())".utf8))
        shown = true
    }

    func clear() {
        guard shown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        last = .distantPast
    }

    func finish() {
        clear()
        shown = false
    }
}

func printError(_ text: String) { FileHandle.standardError.write(Data("planwatch: \(text)\n".utf8)) }
