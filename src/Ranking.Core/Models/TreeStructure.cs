namespace Ranking.Models;

/// <summary>
/// The shape every decision tree the engine's scorers walk must have, checked once where a tree is read from a
/// file (LightGBM text, FastTree's binary model). A split node's child is a node index (&gt;= 0) or the
/// complement of a leaf index (~leaf). A walk from node 0 ends at a leaf only when the children form one tree:
/// every node and every leaf reached exactly once. A crafted file with a cycle would make the walk loop forever.
/// </summary>
public static class TreeStructure
{
    /// <summary>
    /// Why the children do not form one tree over <paramref name="leaves"/> leaves (a child out of range, a node or
    /// leaf reached twice, one never reached), or null when they do. <paramref name="lefts"/> and
    /// <paramref name="rights"/> hold one child per split node; a tree of one leaf has no split nodes.
    /// </summary>
    public static string? Problem(ReadOnlySpan<int> lefts, ReadOnlySpan<int> rights, int leaves)
    {
        int nodes = lefts.Length;
        if (rights.Length != nodes || leaves != nodes + 1)
            return $"{nodes} left and {rights.Length} right children do not fit {leaves} leaves.";
        if (nodes == 0) return null;
        var seenNode = new bool[nodes];
        var seenLeaf = new bool[leaves];
        var stack = new Stack<int>();
        stack.Push(0);
        seenNode[0] = true;
        while (stack.Count > 0)
        {
            int node = stack.Pop();
            foreach (int child in (ReadOnlySpan<int>)[lefts[node], rights[node]])
            {
                if (child >= 0)
                {
                    if (child >= nodes) return $"node {node} points to node {child}; the tree has {nodes}.";
                    if (seenNode[child]) return $"node {child} is reached twice (a cycle or a shared subtree).";
                    seenNode[child] = true;
                    stack.Push(child);
                }
                else
                {
                    int leaf = ~child;
                    if (leaf >= leaves) return $"node {node} points to leaf {leaf}; the tree has {leaves}.";
                    if (seenLeaf[leaf]) return $"leaf {leaf} is reached twice.";
                    seenLeaf[leaf] = true;
                }
            }
        }
        int orphan = Array.IndexOf(seenNode, false);
        if (orphan >= 0) return $"node {orphan} is not reachable from the root.";
        int lost = Array.IndexOf(seenLeaf, false);
        return lost >= 0 ? $"leaf {lost} is not reachable from the root." : null;
    }
}
