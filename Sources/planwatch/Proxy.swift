import ArgumentParser
import Foundation
import ZeroMQ

/// `planwatch proxy`: the bus hub for several daemons (zmq_proxy, XSUB/XPUB).
struct ProxyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Run the bus hub: producers and daemons' PUBs connect to --frontend, daemons' and consumers' SUBs to --backend.",
        discussion: """
            ZeroMQ's own proxy (XSUB/XPUB): every message published to the frontend goes to every
            subscriber of the backend whose prefix matches, and subscriptions travel upstream, so a
            producer sends only what some subscriber wants. Shards each subscribe to their cities'
            topics (planwatchd --ingest-region 3703); see docs/operations.md.
            """)

    @Option(help: "Endpoint the XSUB binds: publishers (producers, daemons with --publish-connect) connect here.")
    var frontend = "tcp://127.0.0.1:5570"

    @Option(help: "Endpoint the XPUB binds: subscribers (daemons with --ingest-connect, consumers) connect here.")
    var backend = "tcp://127.0.0.1:5571"

    @Option(help: "Messages queued per peer before the proxy drops (ZeroMQ's high-water mark).")
    var highWaterMark: Int32 = 100_000

    func run() throws {
        let context = ZMQContext(ioThreads: 1)
        let xsub = try ZMQSocket(context: context, type: .xsub)
        let xpub = try ZMQSocket(context: context, type: .xpub)
        try xsub.set(.receiveHighWaterMark(highWaterMark))
        try xpub.set(.sendHighWaterMark(highWaterMark))
        try xsub.bind(frontend)
        try xpub.bind(backend)
        // SIGINT and SIGTERM stop the proxy: the context wakes zmq_proxy with ETERM.
        let signals = [SIGINT, SIGTERM].map { signo in
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
            source.setEventHandler { context.shutdown() }
            source.resume()
            return source
        }
        FileHandle.standardError.write(
            Data("planwatch proxy ready: publishers connect to \(xsub.lastEndpoint), subscribers to \(xpub.lastEndpoint)\n".utf8))
        try ZMQSocket.proxy(frontend: xsub, backend: xpub)
        xsub.close()
        xpub.close()
        signals.forEach { $0.cancel() }
        FileHandle.standardError.write(Data("planwatch proxy stopped\n".utf8))
    }
}
