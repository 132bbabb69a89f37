import DequeModule
import Foundation

/// A bounded FIFO between producer threads and one consumer thread. The producer checks
/// ``freeSpace`` before it reads more from its sockets, so memory stays bounded and the
/// sockets' high-water marks push back on peers, or waits for room in ``put(_:)``; an
/// occasional second producer uses ``tryPush(_:)``. A popped element is released at once.
final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items = Deque<Element>()
    private var closed = false
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// How many more elements fit now. Only the consumer can make it grow.
    var freeSpace: Int {
        condition.lock()
        defer { condition.unlock() }
        return capacity - items.count
    }

    /// Appends all of `elements`; the caller has checked ``freeSpace``.
    func push(contentsOf elements: [Element]) {
        guard !elements.isEmpty else { return }
        condition.lock()
        items.append(contentsOf: elements)
        condition.signal()
        condition.unlock()
    }

    /// Appends `element` if there is room and the queue is open; false otherwise. For a
    /// second, occasional producer (an operator's acknowledgement).
    func tryPush(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed, items.count < capacity else { return false }
        items.append(element)
        condition.signal()
        return true
    }

    /// Appends `element`, waiting while the queue is full; false if it is closed. For a
    /// producer that must not drop what it hands over (the pipeline, to the output thread).
    @discardableResult
    func put(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !closed { condition.wait() }
        guard !closed else { return false }
        items.append(element)
        condition.broadcast()
        return true
    }

    /// No more elements will come; wakes the consumer.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Up to `max` elements, waiting until `deadline` for the first one.
    /// Returns `nil` once the queue is closed and empty.
    func pop(max: Int, until deadline: Date) -> [Element]? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed {
            if !condition.wait(until: deadline) { break }
        }
        if items.isEmpty { return closed ? nil : [] }
        let count = min(items.count, max)
        let batch = Array(items.prefix(count))
        items.removeFirst(count)
        condition.broadcast()  // a producer waiting in `put`
        return batch
    }
}
