import Foundation
import PlanWatchTestSupport
import Testing
import ZeroMQ

@Suite struct SocketTests {
    let context = ZMQContext()

    @Test func pubSubCarriesMultipartMessagesByPrefix() throws {
        let pub = try ZMQSocket(context: context, type: .xpub)
        try pub.bind("tcp://127.0.0.1:*")
        let sub = try ZMQSocket(context: context, type: .sub)
        try sub.set(.subscribe("alert."))
        try sub.connect(pub.lastEndpoint)
        // The XPUB sees the subscription arrive: no message is sent into the void.
        let subscription = try #require(try pub.receive(within: 10))
        #expect(subscription == [[1] + Array("alert.".utf8)])
        try pub.send([Array("indicator.x".utf8), Array("skip".utf8)])
        try pub.send([Array("alert.safety.370303".utf8), Array("{}".utf8), []])
        let got = try #require(try sub.receive(within: 10))
        #expect(got == [Array("alert.safety.370303".utf8), Array("{}".utf8), []])
    }

    @Test func routerRepliesToTheDealerThatAsked() throws {
        let router = try ZMQSocket(context: context, type: .router)
        try router.bind("tcp://127.0.0.1:*")
        let dealer = try ZMQSocket(context: context, type: .dealer)
        try dealer.set(.routingId(Array("producer-1".utf8)))
        try dealer.connect(router.lastEndpoint)
        try dealer.send([Array("topic".utf8), Array("body".utf8)])
        let request = try #require(try router.receive(within: 10))
        #expect(request == [Array("producer-1".utf8), Array("topic".utf8), Array("body".utf8)])
        try router.send([request[0], Array("ok".utf8)])
        #expect(try dealer.receive(within: 10) == [Array("ok".utf8)])
    }

    @Test func pushPullAndNonBlockingReceive() throws {
        let pull = try ZMQSocket(context: context, type: .pull)
        try pull.bind("inproc://push-pull-test")
        #expect(try pull.receive(wait: false) == nil)
        let push = try ZMQSocket(context: context, type: .push)
        try push.connect("inproc://push-pull-test")
        try push.send([[1, 2, 3]])
        #expect(try pull.receive(within: 10) == [[1, 2, 3]])
    }

    @Test func badEndpointIsASwiftErrorNamingIt() throws {
        let socket = try ZMQSocket(context: context, type: .sub)
        #expect {
            try socket.bind("tcp://no-such-interface-xyz:1")
        } throws: { error in
            "\(error)".contains("bind tcp://no-such-interface-xyz:1")
        }
    }

    @Test func contextShutdownWakesABlockedReceiveWithETERM() throws {
        let ctx = ZMQContext()
        let done = DispatchSemaphore(value: 0)
        let bound = DispatchSemaphore(value: 0)
        let outcome = OutcomeBox()
        let thread = Thread {
            do {
                let socket = try ZMQSocket(context: ctx, type: .pull)
                try socket.bind("inproc://blocked")
                bound.signal()
                do { _ = try socket.receive() } catch let e as ZMQError { outcome.set(e.code == .terminated) }
                socket.close()
            } catch {}
            done.signal()
        }
        thread.start()
        #expect(bound.wait(timeout: .now() + 20) == .success)
        ctx.shutdown()
        #expect(done.wait(timeout: .now() + 20) == .success)
        #expect(outcome.value)
    }
}

final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = false
    var value: Bool { lock.withLock { stored } }
    func set(_ v: Bool) { lock.withLock { stored = v } }
}
