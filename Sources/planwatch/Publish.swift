import ArgumentParser
import ZeroMQ

struct Publish: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish events (JSON lines) to the daemon.",
        discussion: """
            The topic of each line is <type>.<region> of its body. Without --ack the events go
            fire-and-forget to the daemon's SUB. With --ack each goes to the ROUTER and is resent
            until the daemon answers ok or duplicate; the counts and each rejection's reason are printed.
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

    func run() throws {
        let lines = try EventLine.read(path: file)
        let context = ZMQContext()
        if ack {
            try publishAcknowledged(lines, context: context)
        } else {
            try publishFireAndForget(lines, context: context)
        }
    }

    private func publishFireAndForget(_ lines: [EventLine], context: ZMQContext) throws {
        let sender = try FireAndForgetSender(
            context: context, endpoint: endpoints.ingest, timeoutSeconds: timeout, curve: try endpoints.curve())
        for line in lines { try sender.send([line.topic, line.body]) }
        print("published \(lines.count) events to \(endpoints.ingest)")
    }

    private func publishAcknowledged(_ lines: [EventLine], context: ZMQContext) throws {
        var counts: [String: Int] = ["ok": 0, "duplicate": 0, "rejected": 0]
        let sender = try AckSender(
            context: context, endpoint: endpoints.ack, timeoutSeconds: timeout, maxTries: retries, curve: try endpoints.curve())
        for line in lines {
            let reply: (status: String, detail: String)
            do { reply = try sender.send([line.topic, line.body]) } catch {
                throw CLIError("line \(line.number): \(error); stopping")
            }
            counts[reply.status, default: 0] += 1
            if reply.status == "rejected" { print("line \(line.number): rejected: \(reply.detail)") }
        }
        print("ok \(counts["ok"]!), duplicate \(counts["duplicate"]!), rejected \(counts["rejected"]!)")
    }
}
