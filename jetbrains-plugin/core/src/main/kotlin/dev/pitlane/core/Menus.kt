package dev.pitlane.core

import java.time.Instant

/** One entry of a workspace's menu: [action] is a name of [Actions]. */
data class MenuItem(val action: String, val label: String, val description: String)

/**
 * A workspace's menu, built only from the actions the bridge lists for it:
 * which ones a state allows is the engine's decision, not the IDE's.
 */
object WorkspaceMenu {
    private val items = mapOf(
        Actions.OPEN to MenuItem(Actions.OPEN, "Open", "Open the workspace in the IDE (starts it if it is stopped)"),
        Actions.START to MenuItem(Actions.START, "Start", "Start the workspace's container"),
        Actions.STOP to MenuItem(Actions.STOP, "Stop", "Stop the workspace's container; its files are kept"),
        Actions.REBUILD to MenuItem(Actions.REBUILD, "Rebuild", "Build the image again and recreate the container; the files are kept"),
        Actions.DELETE to MenuItem(Actions.DELETE, "Delete…", "Remove the workspace, its container and its clone"),
        Actions.LOGS to MenuItem(Actions.LOGS, "Show Log", "Show the workspace's log as it grows"),
        Actions.PORTS to MenuItem(Actions.PORTS, "Forward Port…", "Forward a port of the workspace to this machine"),
        Actions.CANCEL to MenuItem(Actions.CANCEL, "Cancel", "Stop what is running for the workspace and remove what it made"),
    )

    /** The entries for [ws], in the bridge's order; actions this client does not know are left out. */
    fun items(ws: Workspace): List<MenuItem> = ws.actions.orEmpty().mapNotNull { items[it] }

    /** The entry for an action name, or null for one this client does not know. */
    fun item(action: String): MenuItem? = items[action]

    /** What a double-click does: open when allowed, else show the log when allowed, else nothing. */
    fun defaultAction(ws: Workspace): String? = listOf(Actions.OPEN, Actions.LOGS).firstOrNull { ws.allows(it) }
}

/** What the tool window shows and offers for a workspace's ports. */
object PortText {
    const val OPEN_IN_BROWSER = "Open in Browser"
    const val STOP_FORWARDING = "Stop Forwarding"
    const val FORWARD = "Forward Port"

    /** "3000 web → 127.0.0.1:3001", "5432 (configured)", "9229 (detected)". */
    fun label(p: Port): String = buildString {
        append(p.port)
        p.label?.takeIf { it.isNotBlank() }?.let { append(' ').append(it) }
        val f = p.forwarded
        if (f != null) {
            append(" → 127.0.0.1:").append(f.localPort)
        } else {
            append(if (p.source == PortSources.DETECTED) " (detected)" else " (configured)")
        }
    }

    /** What a port's row offers: a forwarded port opens or stops, another one can be forwarded. */
    fun actions(p: Port): List<String> = if (p.forwarded != null) listOf(OPEN_IN_BROWSER, STOP_FORWARDING) else listOf(FORWARD)

    /** The port number typed into the Forward Port dialog, or null. */
    fun parse(input: String): Int? = input.trim().toIntOrNull()?.takeIf { it in 1..65535 }

    /** Null when [input] is a port number, else what to type. */
    fun inputError(input: String): String? = if (parse(input) != null) null else "Enter a port number from 1 to 65535."

    /** The note after a forward: the bridge's message (another local port was used) or where the port is. */
    fun forwarded(name: String, r: ForwardPortResult): String =
        r.message?.takeIf { it.isNotBlank() }?.let { "$name: $it." }
            ?: "$name: port ${r.port} is at ${r.forwarded?.url ?: "127.0.0.1"}."
}

/** The text of the dialogs that ask before a request is sent again with consent. */
object ConsentText {
    const val TRUST_TITLE = "Trust This Configuration?"
    const val TRUST_YES = "Trust and Continue"
    const val UNSAVED_TITLE = "Delete Unsaved Work?"
    const val UNSAVED_YES = "Delete Anyway"
    const val CANCEL = "Cancel"

    private val kinds = mapOf(
        "initializeCommand" to "runs on this machine",
        "privileged" to "privileged container",
        "capability" to "capability",
        "device" to "device of this machine",
        "hostNetwork" to "this machine's network",
        "hostNamespace" to "a namespace of this machine",
        "securityOpt" to "security option",
        "bindMount" to "mounts a folder of this machine",
        "buildContext" to "build context outside the source",
    )

    /** The trust dialog's text: who asks, and one line per thing asked for. */
    fun trust(r: TrustRequest): String = buildString {
        append("The configuration of ").append(r.source)
        r.configPath?.takeIf { it.isNotEmpty() }?.let { append(" (").append(it).append(")") }
        append(" asks for access to this machine:\n")
        for (item in r.items.orEmpty()) {
            append("\n• ").append(kinds[item.kind] ?: item.kind)
            if (item.detail.isNotEmpty()) append(": ").append(item.detail)
            item.from?.takeIf { it.isNotEmpty() }?.let { append("  (from ").append(it).append(")") }
        }
        append("\n\nContinue only if you trust this repository. Pitlane remembers the answer until the configuration changes.")
    }

    /** The unsaved-work dialog's text: what would be lost, and where it is now. */
    fun unsaved(name: String, w: UnsavedWork): String = buildString {
        append("Deleting ").append(name).append(" loses work that exists only in its clone")
        if (w.summary.isNotEmpty()) append(": ").append(w.summary)
        append(".\n")
        w.changes?.takeIf { it.isNotEmpty() }?.let { append("\nUncommitted changes:\n").append(it.joinToString("\n") { l -> "  $l" }).append('\n') }
        w.unpushed?.takeIf { it.isNotEmpty() }?.let { append("\nCommits on no remote:\n").append(it.joinToString("\n") { l -> "  $l" }).append('\n') }
        if (w.stashes > 0) append("\nStashes: ").append(w.stashes).append('\n')
        if (w.clone.isNotEmpty()) append("\nThe clone is ").append(w.clone).append(". Push or copy what you need first, or delete anyway.")
    }
}

/** The "Go to Workspace…" search. */
object WorkspaceSearch {
    /**
     * The workspaces matching [query] (all words, case-insensitive, in the
     * name, the repository and branch, or the state): names starting with
     * the query first, then the most recently used.
     */
    fun filter(workspaces: List<Workspace>, query: String): List<Workspace> {
        val words = query.trim().lowercase().split(Regex("\\s+")).filter { it.isNotEmpty() }
        val q = words.joinToString(" ")
        return workspaces
            .filter { ws ->
                val hay = "${ws.name} ${Presentation.sourceLabel(ws.source)} ${ws.source.url} ${Presentation.stateLabel(ws.stateValue)}".lowercase()
                words.all { hay.contains(it) }
            }
            .sortedWith(
                compareBy<Workspace> { if (q.isNotEmpty() && it.name.lowercase().startsWith(q)) 0 else 1 }
                    .thenByDescending { it.lastUsedAtInstant ?: Instant.MIN }
                    .thenBy { it.name },
            )
    }

    /** A row of the popup: "api  Running  api @ main". */
    fun row(ws: Workspace): String = "${ws.name}  ${Presentation.stateLabel(ws.stateValue)}  ${Presentation.sourceLabel(ws.source)}"
}
