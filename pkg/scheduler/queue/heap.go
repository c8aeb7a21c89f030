package queue

import "container/heap"

// keyedHeap is a heap whose items can be found, updated and removed by key.
type keyedHeap[T any] struct {
	data heapData[T]
}

func newKeyedHeap[T any](key func(T) string, less func(a, b T) bool) *keyedHeap[T] {
	return &keyedHeap[T]{data: heapData[T]{index: map[string]int{}, key: key, less: less}}
}

// AddOrUpdate inserts item, or replaces the item with the same key and
// restores the order.
func (h *keyedHeap[T]) AddOrUpdate(item T) {
	k := h.data.key(item)
	if i, ok := h.data.index[k]; ok {
		h.data.items[i] = item
		heap.Fix(&h.data, i)
		return
	}
	heap.Push(&h.data, item)
}

// Get returns the item with key.
func (h *keyedHeap[T]) Get(key string) (T, bool) {
	if i, ok := h.data.index[key]; ok {
		return h.data.items[i], true
	}
	var zero T
	return zero, false
}

// Has reports whether an item with key is present.
func (h *keyedHeap[T]) Has(key string) bool {
	_, ok := h.data.index[key]
	return ok
}

// Delete removes the item with key, if present.
func (h *keyedHeap[T]) Delete(key string) (T, bool) {
	if i, ok := h.data.index[key]; ok {
		return heap.Remove(&h.data, i).(T), true
	}
	var zero T
	return zero, false
}

// Peek returns the first item without removing it.
func (h *keyedHeap[T]) Peek() (T, bool) {
	if len(h.data.items) == 0 {
		var zero T
		return zero, false
	}
	return h.data.items[0], true
}

// Pop removes and returns the first item.
func (h *keyedHeap[T]) Pop() (T, bool) {
	if len(h.data.items) == 0 {
		var zero T
		return zero, false
	}
	return heap.Pop(&h.data).(T), true
}

// Len returns the number of items.
func (h *keyedHeap[T]) Len() int { return len(h.data.items) }

// heapData implements heap.Interface and keeps index in step with items.
type heapData[T any] struct {
	items []T
	index map[string]int
	key   func(T) string
	less  func(a, b T) bool
}

func (d *heapData[T]) Len() int           { return len(d.items) }
func (d *heapData[T]) Less(i, j int) bool { return d.less(d.items[i], d.items[j]) }
func (d *heapData[T]) Swap(i, j int) {
	d.items[i], d.items[j] = d.items[j], d.items[i]
	d.index[d.key(d.items[i])] = i
	d.index[d.key(d.items[j])] = j
}
func (d *heapData[T]) Push(x any) {
	item := x.(T)
	d.index[d.key(item)] = len(d.items)
	d.items = append(d.items, item)
}
func (d *heapData[T]) Pop() any {
	n := len(d.items) - 1
	item := d.items[n]
	var zero T
	d.items[n] = zero
	d.items = d.items[:n]
	delete(d.index, d.key(item))
	return item
}
