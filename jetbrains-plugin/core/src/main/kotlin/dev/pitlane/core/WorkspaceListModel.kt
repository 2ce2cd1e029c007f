package dev.pitlane.core

import java.util.TreeMap
import java.util.concurrent.CopyOnWriteArrayList

/** What changed in a [WorkspaceListModel]. */
sealed class ModelEvent {
    /** The whole list was replaced. */
    object Reset : ModelEvent()

    data class Added(val workspace: Workspace) : ModelEvent()

    data class Updated(val workspace: Workspace) : ModelEvent()

    data class Removed(val name: String) : ModelEvent()

    /** The ports of [name] changed (see [WorkspaceListModel.ports]). */
    data class PortsChanged(val name: String, val ports: List<Port>) : ModelEvent()
}

/**
 * The workspaces the IDE shows, kept current from workspace/list answers,
 * workspace/didChange notifications and the results of the client's own
 * calls. Thread-safe; listeners run on the thread that made the change, after
 * the model's lock is released.
 *
 * A list answer can be older than a change notification that arrived while
 * the list was on its way. [beginRefresh] and [reset] handle that: changes
 * seen after [beginRefresh] are applied again on top of the list.
 */
class WorkspaceListModel {
    private val lock = Any()
    private val byName = TreeMap<String, Workspace>()
    private var refreshing = 0
    private val seenWhileRefreshing = ArrayList<DidChangeParams>()
    private val listeners = CopyOnWriteArrayList<(ModelEvent) -> Unit>()
    private val portsByName = HashMap<String, List<Port>>()

    /** The workspaces sorted by name. */
    fun snapshot(): List<Workspace> = synchronized(lock) { byName.values.toList() }

    operator fun get(name: String): Workspace? = synchronized(lock) { byName[name] }

    val size: Int get() = synchronized(lock) { byName.size }

    /** The last known ports of [name], sorted by number; empty until asked for or pushed. */
    fun ports(name: String): List<Port> = synchronized(lock) { portsByName[name].orEmpty() }

    /** Records all of a workspace's ports (a workspace/ports answer or a workspace/portsChanged). */
    fun setPorts(name: String, ports: List<Port>): ModelEvent? {
        val sorted = ports.sortedBy { it.port }
        val ev = synchronized(lock) {
            if (portsByName[name] == sorted) null else {
                portsByName[name] = sorted
                ModelEvent.PortsChanged(name, sorted)
            }
        }
        ev?.let(::fire)
        return ev
    }

    /** Records one port (a workspace/forwardPort answer), replacing the entry of its number. */
    fun putPort(name: String, port: Port): ModelEvent? {
        val list = synchronized(lock) { portsByName[name].orEmpty().filter { it.port != port.port } + port }
        return setPorts(name, list)
    }

    fun addListener(l: (ModelEvent) -> Unit): AutoCloseable {
        listeners += l
        return AutoCloseable { listeners -= l }
    }

    /** Marks the start of a workspace/list call whose answer goes to [reset]. */
    fun beginRefresh() {
        synchronized(lock) {
            if (refreshing++ == 0) seenWhileRefreshing.clear()
        }
    }

    /** Ends a refresh started with [beginRefresh] whose call failed. */
    fun abortRefresh() {
        synchronized(lock) {
            if (refreshing > 0) refreshing--
        }
    }

    /** Replaces the list with a workspace/list answer. */
    fun reset(workspaces: List<Workspace>) {
        synchronized(lock) {
            byName.clear()
            workspaces.forEach { byName[it.name] = it }
            if (refreshing > 0) {
                refreshing--
                seenWhileRefreshing.forEach { applyLocked(it) }
            }
            if (refreshing == 0) seenWhileRefreshing.clear()
        }
        fire(ModelEvent.Reset)
    }

    /** Applies a workspace/didChange notification; returns what changed, or null if nothing did. */
    fun apply(change: DidChangeParams): ModelEvent? {
        val ev = synchronized(lock) {
            if (refreshing > 0) seenWhileRefreshing += change
            applyLocked(change)
        }
        ev?.let(::fire)
        return ev
    }

    /** Records a workspace returned by a call (create, start, stop, rebuild). */
    fun put(workspace: Workspace): ModelEvent? {
        val ev = synchronized(lock) { putLocked(workspace) }
        ev?.let(::fire)
        return ev
    }

    /** Forgets a workspace (after a successful delete). */
    fun remove(name: String): ModelEvent? {
        val ev = synchronized(lock) {
            portsByName.remove(name)
            if (byName.remove(name) != null) ModelEvent.Removed(name) else null
        }
        ev?.let(::fire)
        return ev
    }

    private fun applyLocked(change: DidChangeParams): ModelEvent? {
        val ws = change.workspace
        if (change.removed || ws == null) {
            if (!change.removed) return null // nothing to apply: neither a workspace nor a removal
            portsByName.remove(change.name)
            return if (byName.remove(change.name) != null) ModelEvent.Removed(change.name) else null
        }
        return putLocked(if (ws.name.isEmpty()) ws.copy(name = change.name) else ws)
    }

    private fun putLocked(ws: Workspace): ModelEvent? {
        val old = byName.put(ws.name, ws)
        return when {
            old == null -> ModelEvent.Added(ws)
            old == ws -> null
            else -> ModelEvent.Updated(ws)
        }
    }

    private fun fire(ev: ModelEvent) {
        listeners.forEach { runCatching { it(ev) } }
    }
}
