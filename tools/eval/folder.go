package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/d2vgo/d2v/classifier"
)

// wordNetID matches ImageNet's class folder names, such as n01440764.
var wordNetID = regexp.MustCompile(`^n\d{8}$`)

// imageExtensions are the file types the decoder reads, lower case.
var imageExtensions = map[string]bool{
	".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".bmp": true,
	".tif": true, ".tiff": true, ".webp": true,
}

// folderSamples lists the images of a one-subfolder-per-class tree.
func folderSamples(c *classifier.Classifier, root string) ([]sample, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var classes []string
	for _, e := range entries {
		// Hidden folders (.git, .ipynb_checkpoints) are not classes. Stat
		// follows symbolic links, which class folders often are.
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if info, err := os.Stat(filepath.Join(root, e.Name())); err == nil && info.IsDir() {
			classes = append(classes, e.Name())
		}
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("%s has no class subfolders", root)
	}
	sort.Strings(classes)
	indices, err := matchClasses(classes, c.Labels())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", root, err)
	}

	var samples []sample
	for i, class := range classes {
		files, err := os.ReadDir(filepath.Join(root, class))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if f.IsDir() || !imageExtensions[strings.ToLower(filepath.Ext(f.Name()))] {
				continue
			}
			path := filepath.Join(root, class, f.Name())
			samples = append(samples, sample{
				name:  path,
				label: indices[i],
				load: func() ([]float32, error) {
					data, err := os.ReadFile(path)
					if err != nil {
						return nil, err
					}
					img, err := c.DecodeImage(data)
					if err != nil {
						return nil, err
					}
					return c.PixelValues(img)
				},
			})
		}
	}
	return samples, nil
}

// matchClasses maps sorted folder names to class indices.
func matchClasses(folders, labels []string) ([]int, error) {
	allWordNet := true
	for _, f := range folders {
		allWordNet = allWordNet && wordNetID.MatchString(f)
	}
	if allWordNet {
		if len(folders) != len(labels) {
			return nil, fmt.Errorf("%d WordNet-id folders but the model has %d classes; the sorted-rank rule needs one folder per class", len(folders), len(labels))
		}
		indices := make([]int, len(folders))
		for i := range indices {
			indices[i] = i
		}
		return indices, nil
	}

	byLabel := map[string]int{}
	for i, l := range labels {
		if _, dup := byLabel[l]; dup {
			byLabel[l] = -1 // ambiguous, such as ImageNet's two "crane" classes
			continue
		}
		byLabel[l] = i
	}
	indices := make([]int, len(folders))
	for i, f := range folders {
		if n, err := strconv.Atoi(f); err == nil {
			if n < 0 || n >= len(labels) {
				return nil, fmt.Errorf("folder %q is not a class index of the model, which has classes 0 to %d", f, len(labels)-1)
			}
			indices[i] = n
			continue
		}
		idx, ok := byLabel[f]
		switch {
		case !ok:
			return nil, fmt.Errorf("folder %q is neither a class index nor a label of the model", f)
		case idx < 0:
			return nil, fmt.Errorf("folder %q names a label that several classes share; name the folder by class index", f)
		}
		indices[i] = idx
	}
	return indices, nil
}
